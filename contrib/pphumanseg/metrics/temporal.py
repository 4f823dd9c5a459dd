"""Temporal stability of video segmentation: how often predictions flicker between frames.

Definition (used by ``pphumanseg val`` on video datasets):

* For two consecutive frames t and t+1 of one video, the *stable pixels* are those whose label is
  valid (not ``ignore_index``) in both frames and the same in both frames: the person did not
  move over them, so a good model should predict the same class there.
* **flicker rate** = (stable pixels whose predicted class differs between t and t+1)
  / (stable pixels), summed over all pairs of consecutive frames before dividing.
* **temporal stability** = 1 - flicker rate.

Pixels where the label itself changes are left out, so real motion is not counted as flicker.
Only numpy is used, so the metric can run anywhere, e.g. on exported-model predictions.
"""
import numpy as np


class TemporalStability:
    """Accumulates the flicker rate over pairs of consecutive frames.

    Args:
        ignore_index (int): label value of pixels that are not annotated.
    """

    def __init__(self, ignore_index=255):
        self.ignore_index = ignore_index
        self.stable_pixels = 0
        self.flickering_pixels = 0

    def update(self, pred_t, pred_t1, label_t, label_t1):
        """Adds one pair of frames (or a batch of pairs): integer arrays of equal shape."""
        pred_t, pred_t1 = np.asarray(pred_t), np.asarray(pred_t1)
        label_t, label_t1 = np.asarray(label_t), np.asarray(label_t1)
        shapes = {pred_t.shape, pred_t1.shape, label_t.shape, label_t1.shape}
        if len(shapes) != 1:
            raise ValueError(f"predictions and labels of a frame pair differ in shape: {sorted(shapes)}")
        stable = (label_t == label_t1) & (label_t != self.ignore_index)
        self.stable_pixels += int(np.count_nonzero(stable))
        self.flickering_pixels += int(np.count_nonzero(stable & (pred_t != pred_t1)))

    def result(self):
        """Returns ``{"temporal_stability", "flicker_rate"}``; both NaN before any stable pixel."""
        if self.stable_pixels == 0:
            return {"temporal_stability": float("nan"), "flicker_rate": float("nan")}
        flicker_rate = self.flickering_pixels / self.stable_pixels
        return {"temporal_stability": 1.0 - flicker_rate, "flicker_rate": flicker_rate}
