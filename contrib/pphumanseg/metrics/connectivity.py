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

This module holds the component matching shared by the hard metric (``SCMetric``,
``semantic_connectivity``) and the differentiable loss (``pphumanseg.losses.SCLoss``). It needs
only numpy and OpenCV. All component-pair intersections and predicted areas of one class come
from one ``np.bincount`` over the image's pixels; nothing loops over components.
"""
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

# np.bincount with weights is slowed by a dependency chain when neighbouring pixels hit the same
# cell (they usually do: they lie in the same components). Spreading neighbours over this many
# sub-cells ("lanes"), summed afterwards, makes the weighted pass about twice as fast.
_BINCOUNT_LANES = 4


@lru_cache(maxsize=8)
def _lane_of_pixel(pixel_count, dtype):
    lanes = (np.arange(pixel_count) % _BINCOUNT_LANES).astype(dtype)
    lanes.flags.writeable = False
    return lanes


@dataclass
class Components:
    """Connected components (8-connectivity) of one binary mask.

    Attributes:
        count: number of components (the background is not one).
        ids: (H, W) int32 map, 0 outside the mask and 1..count inside.
    """
    count: int
    ids: np.ndarray


def find_components(mask):
    """Labels the 8-connected components of an (H, W) bool mask with OpenCV."""
    as_bytes = np.ascontiguousarray(mask).view(np.uint8)
    count, ids = cv2.connectedComponents(as_bytes, connectivity=8, ltype=cv2.CV_32S)
    return Components(count=count - 1, ids=ids)


@dataclass
class ComponentMatching:
    """Soft or hard matching between one class's label and predicted components in one image.

    Attributes:
        score: SC_c of the module docstring.
        pair_key: (H*W,) int, each pixel's index into ``score_gradient_table()``: its cell in the
            (N + 1) x (M + 1) pair table (row = label component, 0 for none; column = predicted
            component, 0 for not a matched prediction) times the bincount lanes, plus its lane.
        intersection, union: (N, M) I_ij and |p_j| + |g_i| - I_ij.
        overlap: (N, M) bool, g_i and p_j share a pixel.
        denominator: N + L.
    """
    score: float
    pair_key: np.ndarray
    intersection: np.ndarray
    union: np.ndarray
    overlap: np.ndarray
    denominator: int

    def score_gradient_table(self, dtype=np.float32):
        """d score / d P per pair-table cell and lane; ``table[pair_key]`` is the per-pixel gradient.

        For a pixel of p_j inside g_k, dIoU_kj/dP = 1/U_kj and, for every other g_i matched with
        p_j, dIoU_ij/dP = -I_ij/U_ij^2 (the pixel enlarges p_j but not the intersection). Every
        pixel of one (g_k, p_j) cell gets the same value; column 0 (not a matched prediction) is 0.
        """
        matches = self.overlap.sum(axis=1, keepdims=True)
        pair_weight = self.overlap / np.maximum(matches, 1)
        inside = pair_weight / self.union
        outside = pair_weight * self.intersection / np.square(self.union)
        outside_total = outside.sum(axis=0)
        table = np.zeros((self.union.shape[0] + 1, self.union.shape[1] + 1), dtype=dtype)
        table[0, 1:] = -outside_total
        table[1:, 1:] = inside + outside - outside_total
        table /= self.denominator
        return np.repeat(table.ravel(), _BINCOUNT_LANES)


def match_components(pred, label, weight=None, max_components=None):
    """Matches predicted components to label components for one class of one image.

    Args:
        pred: ``Components`` of the predicted class mask (ignored pixels already removed); at least
            one component.
        label: ``Components`` of the label class mask; at least one component.
        weight: optional flat (H*W,) float array of per-pixel weights (the class probability) making
            intersections and predicted areas soft; None counts pixels (the hard metric).
        max_components: optional cap on the predicted components that are matched; the largest
            (by pixel count) are kept and the rest count as lone.

    Returns:
        ComponentMatching
    """
    if pred.count < 1 or label.count < 1:
        raise ValueError(f"match_components needs at least one predicted and one label component; "
                         f"got {pred.count} predicted and {label.count} label components")
    pred_ids = pred.ids.ravel()
    pred_count, dropped = pred.count, 0
    if max_components is not None and pred.count > max_components:
        pixel_counts = np.bincount(pred_ids, minlength=pred.count + 1)[1:]
        kept = np.argsort(-pixel_counts, kind="stable")[:max_components]
        renumber = np.zeros(pred.count + 1, dtype=np.int32)
        renumber[kept + 1] = np.arange(1, max_components + 1)
        pred_ids = np.take(renumber, pred_ids)
        pred_count, dropped = max_components, pred.count - max_components
    label_ids = label.ids.ravel()
    if label.count == 1:  # the common single person or background needs no histogram
        label_area = np.array([np.count_nonzero(label_ids)])
    else:
        label_area = np.bincount(label_ids, minlength=label.count + 1)[1:]
    cells = (label.count + 1) * (pred_count + 1)
    # int32 keys halve the memory traffic of building them when the table is small enough.
    key_type = np.int32 if cells * _BINCOUNT_LANES < 2 ** 31 else np.int64
    pair_key = label_ids * key_type(_BINCOUNT_LANES * (pred_count + 1))
    pair_key += pred_ids * key_type(_BINCOUNT_LANES)
    pair_key += _lane_of_pixel(pair_key.size, key_type)
    table = np.bincount(pair_key, weights=weight, minlength=cells * _BINCOUNT_LANES)
    table = table.reshape(cells, _BINCOUNT_LANES).sum(axis=1)
    table = table.reshape(label.count + 1, pred_count + 1)
    intersection = table[1:, 1:]
    pred_area = table[:, 1:].sum(axis=0)
    union = pred_area[None, :] + label_area[:, None] - intersection
    # A predicted pixel has P >= 1/C for its own class, so a shared pixel gives I_ij > 0.
    overlap = intersection > 0
    iou = np.where(overlap, intersection / union, 0.0)
    matches = overlap.sum(axis=1)
    connectivity = iou.sum(axis=1) / np.maximum(matches, 1)
    lone = int(np.count_nonzero(~overlap.any(axis=0))) + dropped
    denominator = label.count + lone
    return ComponentMatching(score=float(connectivity.sum() / denominator), pair_key=pair_key,
                             intersection=intersection, union=union, overlap=overlap,
                             denominator=denominator)


def class_codes(label, num_classes, ignore_index):
    """The label as small integers: 0..C-1 for classes and C for ``ignore_index`` pixels.

    Raises:
        ValueError: if ``label`` holds a value outside [0, num_classes) other than ignore_index.
    """
    valid = label != ignore_index
    codes = np.where(valid, label, 0)
    if codes.size and (codes.min() < 0 or codes.max() >= num_classes):
        bad = np.unique(label[valid & ((label < 0) | (label >= num_classes))])
        raise ValueError(f"label values {bad[:10].tolist()} are outside [0, {num_classes}) and are "
                         f"not ignore_index={ignore_index}")
    codes = codes.astype(np.uint8 if num_classes < 255 else np.int32)
    np.copyto(codes, num_classes, where=~valid)
    return codes


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
    label = class_codes(label, num_classes, ignore_index)
    valid = label != num_classes
    scores = np.full(num_classes, np.nan)
    for class_id in range(num_classes):
        label_components = find_components(label == class_id)
        if label_components.count == 0:
            continue
        pred_components = find_components((pred == class_id) & valid)
        if pred_components.count == 0:
            scores[class_id] = 0.0
        else:
            scores[class_id] = match_components(pred_components, label_components).score
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
