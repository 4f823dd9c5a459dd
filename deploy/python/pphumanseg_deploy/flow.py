"""Temporal smoothing of video masks with DIS optical flow and a forward-backward check.

For each frame the previous *fused* probability is carried to the current frame along the
backward flow (current -> previous). A pixel counts as tracked when the flow there survives a
round trip: following the backward flow and then the forward flow (previous -> current) must land
within ``round_trip_px`` (plus 5 % of the motion) of where it started, and the pixel must look the
same where the flow says it came from (grey level within ``max_intensity_change``). Occlusions,
disocclusions and flow that smears across a flat-coloured silhouette edge fail these checks. Tracked pixels blend the propagated probability with the
current prediction, leaning on history (``uncertain_history``) where the current prediction is
uncertain and on the present (``certain_history``) where it is certain; untracked pixels keep the
current prediction.

Certainty is judged on the 0-1 probability scale the predictor returns: a pixel is certain when
its probability is at most ``certain_low`` or at least ``certain_high``. (PaddleSeg's optical-flow
demo compares its 0.1/0.9 thresholds with a 0-255 score map, so almost every pixel passes as
certain and the smoothing barely acts.)
"""
import cv2
import numpy as np


class FlowSmoother:
    """Fuses each frame's foreground probability with the flow-propagated previous result.

    Works at the probability map's resolution (the network's, typically 398x224), where DIS
    optical flow costs a few milliseconds per direction.

    Args:
        certain_low (float): Probability at or below which a pixel is certainly background.
        certain_high (float): Probability at or above which a pixel is certainly foreground.
        round_trip_px (float): Largest forward-backward round-trip error, in pixels of the
            probability map, for a pixel to count as tracked.
        max_intensity_change (int): Largest grey-level difference between a pixel and its source
            in the previous frame for it to count as tracked.
        uncertain_history (float): Weight of the propagated history at tracked, uncertain pixels.
        certain_history (float): Weight of the propagated history at tracked, certain pixels.
    """

    def __init__(self, certain_low=0.1, certain_high=0.9, round_trip_px=1.0, max_intensity_change=12,
                 uncertain_history=0.7, certain_history=0.3):
        if not 0.0 <= certain_low < 0.5 < certain_high <= 1.0:
            raise ValueError("need 0 <= certain_low < 0.5 < certain_high <= 1 (probability scale)")
        for name, weight in (("uncertain_history", uncertain_history), ("certain_history", certain_history)):
            if not 0.0 <= weight < 1.0:
                raise ValueError(f"{name} must be in [0, 1)")
        self.certain_low = certain_low
        self.certain_high = certain_high
        self.round_trip_px = round_trip_px
        self.max_intensity_change = max_intensity_change
        self.uncertain_history = uncertain_history
        self.certain_history = certain_history
        self.flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        # Patches every 6 px instead of the preset's 4: about -0.4 ms per flow at 398x224, for
        # flicker and mIoU within 0.25 point (scripts/bench_infer.py --parts flow, deploy/README).
        self.flow.setPatchStride(6)
        self.reset()

    def reset(self):
        """Forgets the previous frame (call between unrelated videos)."""
        self.previous_gray = None
        self.previous_fused = None
        self._grid = None

    def _gray(self, frame_bgr, size):
        if (frame_bgr.shape[1], frame_bgr.shape[0]) != size:
            frame_bgr = cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)

    def _pixel_grid(self, height, width):
        if self._grid is None or self._grid.shape[:2] != (height, width):
            xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
            self._grid = np.dstack((xs, ys))
        return self._grid

    def track(self, gray, previous_gray, previous_values):
        """Follows every current pixel back into the previous frame.

        Returns (source, tracked, carried): where each pixel was in the previous frame ((h, w, 2)
        float32 x, y), whether that correspondence passes the forward-backward and brightness
        checks ((h, w) bool), and ``previous_values`` ((h, w) float32) sampled there.
        """
        height, width = gray.shape
        backward = self.flow.calc(gray, previous_gray, None)  # current -> previous
        forward = self.flow.calc(previous_gray, gray, None)  # previous -> current
        source = backward + self._pixel_grid(height, width)
        # One 4-channel remap samples everything the previous frame contributes.
        previous = cv2.merge((forward, previous_gray.astype(np.float32), previous_values))
        there = cv2.remap(previous, source, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        forward_x, forward_y, previous_gray_there, carried = cv2.split(there)
        backward_x, backward_y = cv2.split(backward)
        # cv2.magnitude on split channels: numpy.linalg.norm over a length-2 axis took about as
        # long as one DIS flow.
        round_trip = cv2.magnitude(backward_x + forward_x, backward_y + forward_y)
        allowed = cv2.magnitude(backward_x, backward_y)
        allowed *= 0.05
        allowed += self.round_trip_px
        inside = cv2.inRange(source, (0.0, 0.0), (width - 1.0, height - 1.0))
        same_look = np.abs(previous_gray_there - gray) <= self.max_intensity_change
        tracked = (inside != 0) & same_look & (round_trip <= allowed)
        return source, tracked, carried

    def __call__(self, frame_bgr, probability):
        """Fused probability (same shape as ``probability``) for this frame.

        Args:
            frame_bgr (np.ndarray): The frame, HxWx3 uint8, any resolution.
            probability (np.ndarray): The predictor's foreground probability (h, w) float32.
        """
        height, width = probability.shape
        gray = self._gray(frame_bgr, (width, height))
        if self.previous_gray is None or self.previous_gray.shape != gray.shape:
            fused = probability.astype(np.float32, copy=True)
        else:
            _, tracked, history = self.track(gray, self.previous_gray, self.previous_fused)
            certain = (probability <= self.certain_low) | (probability >= self.certain_high)
            # uncertain_history where uncertain, certain_history where certain, 0 where untracked
            weight = certain * np.float32(self.certain_history - self.uncertain_history)
            weight += np.float32(self.uncertain_history)
            weight *= tracked
            history -= probability
            history *= weight
            fused = history + probability
        self.previous_gray = gray
        self.previous_fused = fused
        return fused
