"""Connected components of one class of one image, matched between prediction and label.

Plain functions shared by the hard SC metric (``pphumanseg.metrics.connectivity``) and the SC loss
(``pphumanseg.losses.SCLoss``): ``class_codes`` codes an image, ``match_class`` returns a class's
pair table (the weight of every label component x predicted component intersection) and
``pair_scores`` scores it. The loss weights pixels by the class probability and derives its
gradient from the same tables.
"""
from typing import NamedTuple

import cv2
import numpy as np


def class_codes(pred, label, num_classes, ignore_index):
    """Prediction and label as small integers: 0..C-1 for classes, C where the label is
    ``ignore_index`` (so ignored pixels belong to no component of either).

    Args:
        pred: integer array of predicted classes in [0, C).
        label: integer array of the same shape, classes or ``ignore_index``.

    Raises:
        ValueError: if ``label`` holds a value outside [0, num_classes) other than ignore_index.
    """
    ignored = label == ignore_index
    bad = (label < 0) | (label >= num_classes)
    bad &= ~ignored
    if bad.any():
        raise ValueError(f"label values {np.unique(label[bad])[:10].tolist()} are outside "
                         f"[0, {num_classes}) and are not ignore_index={ignore_index}")
    code_type = np.uint8 if num_classes < 255 else np.int32
    pred_codes, codes = pred.astype(code_type), label.astype(code_type)
    np.copyto(pred_codes, num_classes, where=ignored)
    np.copyto(codes, num_classes, where=ignored)
    return pred_codes, codes


def find_components(mask):
    """The 8-connected components of an (H, W) bool mask: their count and (H, W) int32 ids (0
    outside the mask, 1..count inside)."""
    count, ids = cv2.connectedComponents(mask.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    return count - 1, ids


def _keep_largest(ids, count, max_components):
    """Renumbers ids in place to keep the ``max_components`` largest components (the others get
    id 0); returns how many were dropped."""
    if max_components is None or count <= max_components:
        return 0
    areas = np.bincount(ids.ravel(), minlength=count + 1)[1:]
    kept = np.argsort(-areas, kind="stable")[:max_components] + 1
    renumber = np.zeros(count + 1, dtype=ids.dtype)
    renumber[kept] = np.arange(1, max_components + 1)
    np.take(renumber, ids, out=ids)
    return count - max_components


class ClassMatching(NamedTuple):
    """Components of one class matched between prediction and label.

    intersections: (N + 1, M + 1) float64; [i, j] is the weight of g_i ∩ p_j (i, j >= 1), row 0
        that of predicted pixels outside every label component; column 0 holds the pixels of no
        predicted component and is not a pair.
    label_areas: (N + 1,) pixel counts of g_1..g_N (entry 0 unused).
    cells: (H, W) int index of each pixel's cell in ``intersections.ravel()``.
    dropped: predicted components left out of the table by a cap; they count as lone.
    """
    intersections: np.ndarray
    label_areas: np.ndarray
    cells: np.ndarray
    dropped: int


def match_class(pred, label, class_id, weights=None, max_components=None):
    """The pair table of ``class_id`` in one image, or None if the label does not contain it.

    Args:
        pred, label: (H, W) class codes from ``class_codes``.
        weights: optional (H, W) float weight of each pixel (the class probability for the loss);
            None counts pixels (the hard metric).
        max_components: optional cap on the predicted components; the largest are kept.
    """
    label_count, label_ids = find_components(label == class_id)
    if label_count == 0:
        return None
    pred_count, pred_ids = find_components(pred == class_id)
    dropped = _keep_largest(pred_ids, pred_count, max_components)
    shape = (label_count + 1, pred_count - dropped + 1)
    cell_type = np.int32 if shape[0] * shape[1] <= np.iinfo(np.int32).max else np.int64
    cells = label_ids.astype(cell_type)
    cells *= shape[1]
    cells += pred_ids
    label_areas = np.bincount(label_ids.ravel(), minlength=shape[0])
    intersections = np.bincount(cells.ravel(), None if weights is None else weights.ravel(),
                                minlength=shape[0] * shape[1]).reshape(shape)
    return ClassMatching(intersections, label_areas, cells, dropped)


class PairScores(NamedTuple):
    """The SC of one class and its parts (see ``pphumanseg.metrics.connectivity``).

    sc: SC_c, 0 where nothing is predicted.
    overlaps: (N, M) bool, g_i ∩ p_j non-empty.
    ious, unions: (N, M) IoU_ij (0 where no overlap) and |p_j| + |g_i| - I_ij.
    matches: (N,) number of p_j overlapping each g_i.
    denominator: N + L (L: the lone predicted components, dropped ones included).
    """
    sc: float
    overlaps: np.ndarray
    ious: np.ndarray
    unions: np.ndarray
    matches: np.ndarray
    denominator: int


def pair_scores(matching):
    """The SC of one class from its ``ClassMatching``, with the parts the loss's gradient needs."""
    pairs = matching.intersections[1:, 1:]
    pred_areas = matching.intersections[:, 1:].sum(axis=0)
    overlaps = pairs > 0
    unions = pred_areas + matching.label_areas[1:, None] - pairs  # > 0: every g_i has a pixel
    ious = np.where(overlaps, pairs / unions, 0.0)
    matches = np.count_nonzero(overlaps, axis=1)
    lone = matching.dropped + np.count_nonzero(~overlaps.any(axis=0))
    denominator = len(matches) + lone
    sc = float((ious.sum(axis=1) / np.maximum(matches, 1)).sum() / denominator)
    return PairScores(sc, overlaps, ious, unions, matches, denominator)
