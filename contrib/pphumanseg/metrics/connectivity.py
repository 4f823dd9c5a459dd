"""Semantic connectivity (SC): how well predicted connected components match the label's.

From PP-HumanSeg (Chu et al., arXiv:2112.07146, Sec. 4). For one image and one class c present in
the label, let g_1..g_N be the connected components of ``label == c`` and p_1..p_M those of
``pred == c`` (8-connectivity; pixels whose label is ``ignore_index`` belong to neither). With a
per-pixel weight P (1 for the hard metric, the class-c probability for the loss):

    I_ij = sum of P over g_i ∩ p_j,   |p_j| = sum of P over p_j,   |g_i| = pixel count of g_i
    IoU_ij = I_ij / (|p_j| + |g_i| - I_ij)
    conn_i = mean of the non-zero IoU_ij over j (0 if g_i overlaps no p_j)
    L = number of lone p_j (overlapping no g_i)
    SC_c = sum_i conn_i / (N + L)

A class present in the label but not predicted at all scores 0.

The component matching itself (``pphumanseg.metrics.component_matching``) is shared with the
differentiable loss (``pphumanseg.losses.SCLoss``), which weights pixels by the class probability.
"""
import numpy as np

from pphumanseg.metrics.component_matching import class_codes, match_class, pair_scores


def semantic_connectivity(pred, label, num_classes, ignore_index=255):
    """Hard SC of each class for one image.

    Args:
        pred: (H, W) int array of predicted classes (argmax of the logits).
        label: (H, W) int array of label classes, ``ignore_index`` where unlabelled.
        num_classes: number of classes C.
        ignore_index: label value of pixels that count in neither prediction nor label.

    Returns:
        float64 array of C scores, NaN for classes absent from the label.
    """
    pred, label = np.asarray(pred), np.asarray(label)
    if pred.ndim != 2 or pred.shape != label.shape:
        raise ValueError(f"pred and label must both be (H, W); got {pred.shape} and {label.shape}")
    pred, label = class_codes(pred, label, num_classes, ignore_index)
    scores = np.full(num_classes, np.nan)
    for class_id in range(num_classes):
        matching = match_class(pred, label, class_id)
        if matching is not None:
            scores[class_id] = pair_scores(matching).sc
    return scores


class SCMetric:
    """Hard semantic connectivity accumulated over an evaluation set.

    Each class's SC is averaged over the images whose label contains that class; ``sc`` is the
    mean of those per-class averages over the classes seen at least once.

    Args:
        num_classes: number of classes C.
        ignore_index: label value of pixels that count in neither prediction nor label.
    """

    def __init__(self, num_classes, ignore_index=255):
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self._score_sum = np.zeros(num_classes)
        self._image_count = np.zeros(num_classes, dtype=np.int64)

    def update(self, pred, label):
        """Adds one image (H, W) or a batch (N, H, W) of predicted classes and labels."""
        pred, label = np.asarray(pred), np.asarray(label)
        if pred.shape != label.shape or pred.ndim not in (2, 3):
            raise ValueError(f"pred and label must both be (H, W) or (N, H, W); "
                             f"got {pred.shape} and {label.shape}")
        if pred.ndim == 2:
            pred, label = pred[None], label[None]
        for image_pred, image_label in zip(pred, label):
            scores = semantic_connectivity(image_pred, image_label, self.num_classes,
                                           self.ignore_index)
            present = ~np.isnan(scores)
            self._score_sum[present] += scores[present]
            self._image_count[present] += 1

    def result(self):
        """{"sc": mean over seen classes, "sc_per_class": per-class means (NaN if never seen)}."""
        seen = self._image_count > 0
        per_class = np.full(self.num_classes, np.nan)
        per_class[seen] = self._score_sum[seen] / self._image_count[seen]
        mean = float(per_class[seen].mean()) if seen.any() else float("nan")
        return {"sc": mean, "sc_per_class": [float(value) for value in per_class]}
