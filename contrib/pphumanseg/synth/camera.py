"""What a webcam does to the scene: exposure and light changes, vignetting, shake, motion blur,
defocus, sensor noise and video compression.

Geometric effects (shake) move the image and the mask together; photometric effects touch the
image only, so the mask stays exact.
"""
import cv2
import numpy as np

from .motion import Drift

_NOISE_BANK = 4


class Camera:
    """The camera of one video, with all per-frame randomness drawn up front.

    Args:
        rng: the video's ``numpy.random.Generator``.
        frame_size: (width, height) in pixels.
        frames: number of frames of the video.
        preset: the ``Preset`` giving effect probabilities and ranges.
    """

    def __init__(self, rng, frame_size, frames, preset):
        width, height = frame_size
        self.scale = height / 224
        x = np.linspace(-1, 1, width, dtype=np.float32)[None, :]
        y = np.linspace(-1, 1, height, dtype=np.float32)[:, None]
        vignette = 1 - rng.uniform(0, 0.35) * (x * x + y * y) / 2
        side_light = 1 + rng.uniform(-0.2, 0.2) * x
        self.light_map = (vignette * side_light)[..., None].astype(np.float32)
        self.white_balance = rng.uniform(0.9, 1.1, 3).astype(np.float32)
        self.exposure = rng.uniform(0.85, 1.15)
        self.flicker = Drift(rng, rng.uniform(0.0, 0.06), (20, 120))
        self.light_change = None
        if rng.random() < preset.lighting_change:
            # (frame, gain jump, recovery frames): the light switches, auto-exposure catches up.
            self.light_change = (int(rng.integers(0, max(frames, 1))), rng.uniform(0.55, 1.5),
                                 rng.uniform(6, 25))
        sigma = rng.uniform(*preset.noise_sigma)
        self.noise = rng.standard_normal((_NOISE_BANK, height, width, 3), dtype=np.float32)
        self.noise *= np.float32(sigma)
        self.noise_choice = rng.integers(0, _NOISE_BANK, size=max(frames, 1))
        # Webcam optics are never razor sharp; some cameras are visibly out of focus.
        self.defocus = rng.uniform(0.35, 0.6 if rng.random() < 0.7 else 1.2) * self.scale
        self.shake = None
        if rng.random() < preset.camera_shake:
            start = int(rng.integers(0, max(frames, 1)))
            length = int(rng.integers(5, 20))
            steps = rng.normal(0, 1.5 * self.scale, size=(length, 2))
            self.shake = (start, np.cumsum(steps, axis=0) * np.hanning(length + 2)[1:-1, None])
        low, high = preset.jpeg_quality
        self.jpeg_quality = int(rng.integers(low, high + 1))

    def gain(self, t):
        gain = self.exposure * (1 + self.flicker(t))
        if self.light_change is not None:
            start, jump, recovery = self.light_change
            if t >= start:
                gain *= 1 + (jump - 1) * np.exp(-(t - start) / recovery)
        return gain

    def shake_offset(self, t):
        """(offset, velocity) of the camera in pixels at frame ``t``, or None outside the shake."""
        if self.shake is None:
            return None
        start, path = self.shake
        index = t - start
        if not 0 <= index < len(path):
            return None
        previous = path[index - 1] if index > 0 else np.zeros(2)
        return path[index], path[index] - previous

    def expose(self, image, mask, t):
        """The frame and mask as the sensor records them at frame ``t``, before compression."""
        shake = self.shake_offset(t)
        if shake is not None:
            offset, velocity = shake
            image, mask = _translate(image, mask, offset)
            image = _motion_blur(image, velocity)
        if self.defocus:
            image = cv2.GaussianBlur(image, (0, 0), self.defocus)
        multiplier = self.light_map * (self.white_balance * np.float32(self.gain(t)))
        frame = image.astype(np.float32)
        frame *= multiplier
        frame += self.noise[self.noise_choice[t % len(self.noise_choice)]]
        np.clip(frame, 0, 255, out=frame)
        return frame.astype(np.uint8), mask

    def compress(self, image):
        """The frame after the video codec: JPEG at this camera's quality, decoded again."""
        _, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        return cv2.imdecode(encoded, cv2.IMREAD_COLOR)


def _translate(image, mask, offset):
    matrix = np.array([[1, 0, offset[0]], [0, 1, offset[1]]], np.float64)
    size = (image.shape[1], image.shape[0])
    image = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    mask = cv2.warpAffine(mask, matrix, size, flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT)
    return image, mask


def blur_moving_region(image, center, radius, velocity):
    """Smear a square of ``radius`` around ``center`` along ``velocity`` (pixels per frame), like a
    hand moving during the exposure; the mask keeps the geometry at mid-exposure."""
    height, width = image.shape[:2]
    reach = int(radius + abs(velocity[0]) + abs(velocity[1])) + 1
    x0, y0 = max(int(center[0]) - reach, 0), max(int(center[1]) - reach, 0)
    x1, y1 = min(int(center[0]) + reach + 1, width), min(int(center[1]) + reach + 1, height)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return
    image[y0:y1, x0:x1] = _motion_blur(np.ascontiguousarray(image[y0:y1, x0:x1]), velocity)


def _motion_blur(image, velocity):
    """Average the image along a segment of length |velocity| centred on each pixel."""
    length = int(round(np.hypot(*velocity)))
    if length < 2:
        return image
    half = (length + 1) // 2
    kernel = np.zeros((2 * half + 1, 2 * half + 1), np.float32)
    step = np.asarray(velocity, np.float64) / 2
    start = (int(round(half - step[0])), int(round(half - step[1])))
    end = (int(round(half + step[0])), int(round(half + step[1])))
    cv2.line(kernel, start, end, 1.0, 1)
    return cv2.filter2D(image, -1, kernel / kernel.sum())
