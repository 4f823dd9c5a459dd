"""Connected components of every class of one image, matched between prediction and label.

Shared by the hard SC metric (``pphumanseg.metrics.connectivity``) and the SC loss
(``pphumanseg.losses.SCLoss``), which weights pixels by the class probability. Components come
from OpenCV (8-connectivity); all pair intersections, predicted areas and label areas of all
classes come from one compiled pass over the pixels (``matching_kernels``).
"""
import cv2
import numpy as np

from pphumanseg.metrics.matching_kernels import LANES, accumulate_pair_tables, score_pair_table
from pphumanseg.scratch import scratch


_UINT16_MAX = int(np.iinfo(np.uint16).max)


def component_id_type(shape):
    """The smallest id type OpenCV can label an (H, W) mask with: in 8-connectivity no two
    components touch, so there are at most ceil(H/2) * ceil(W/2) of them. OpenCV returns the
    label count (components + 1, the background is label 0) in the id type too, so uint16 holds
    at most 65,534 components (with 65,535 it returns a wrapped count)."""
    most = -(-shape[0] // 2) * -(-shape[1] // 2)
    return np.uint16 if most + 1 <= _UINT16_MAX else np.int32


def find_components(mask, out):
    """Labels the 8-connected components of an (H, W) bool mask with OpenCV into ``out``
    ((H, W) uint16 or int32: 0 outside the mask, 1..count inside); returns the count."""
    as_bytes = np.ascontiguousarray(mask).view(np.uint8)
    ltype = cv2.CV_16U if out.dtype == np.uint16 else cv2.CV_32S
    count, _ = cv2.connectedComponents(as_bytes, labels=out, connectivity=8, ltype=ltype)
    return count - 1


def _cap(ids, count, max_components):
    """Renumbers (H, W) component ids in place to keep the ``max_components`` largest; returns
    how many were dropped (their pixels get id 0)."""
    if max_components is None or count <= max_components:
        return 0
    pixel_counts = np.bincount(ids.ravel(), minlength=count + 1)[1:]
    kept = np.argsort(-pixel_counts, kind="stable")[:max_components]
    renumber = np.zeros(count + 1, dtype=ids.dtype)
    renumber[kept + 1] = np.arange(1, max_components + 1)
    np.take(renumber, ids, out=ids)
    return count - max_components


class ImageMatching:
    """SC of each class of one image, with what the loss's gradient needs.

    Args:
        pred: (H, W) predicted class codes, ``num_classes`` where the label is ignored.
        label: (H, W) label class codes, ``num_classes`` where ignored (see ``class_codes``).
        num_classes: C.
        class_ids: the classes to score.
        weights: optional (C, H, W) float class probabilities making intersections and predicted
            areas soft; None counts pixels (the hard metric).
        max_components: optional cap on the predicted components matched per class; the largest
            are kept and the others count as lone.

    Attributes:
        label_counts, pred_counts: {class: number of components} for the scored classes.
        scores: {class: SC_c} for the classes present in the label; 0 where nothing is predicted.
        gradients: {class: (N + 1, M + 1) d SC_c / d weight per pair cell} (``score_pair_table``)
            for the classes that have predicted components.
        cells: (H, W) uint32 (uint64 for huge tables) pair cell of each pixel in ``flat_gradients``'
            index space (0 for none); a ``pphumanseg.scratch`` array, valid until the thread
            builds its next ``ImageMatching``.
    """

    def __init__(self, pred, label, num_classes, class_ids, weights=None, max_components=None):
        self.num_classes = num_classes
        ids_shape, id_type = (num_classes,) + pred.shape, component_id_type(pred.shape)
        pred_ids = scratch("pred_ids", ids_shape, id_type)
        label_ids = scratch("label_ids", ids_shape, id_type)
        self.label_counts, self.pred_counts, dropped = {}, {}, {}
        mask = scratch("mask", pred.shape, np.bool_)
        for class_id in class_ids:
            label_count = find_components(np.equal(label, class_id, out=mask), label_ids[class_id])
            if label_count == 0:
                continue
            self.label_counts[class_id] = label_count
            pred_count = find_components(np.equal(pred, class_id, out=mask), pred_ids[class_id])
            dropped[class_id] = _cap(pred_ids[class_id], pred_count, max_components)
            self.pred_counts[class_id] = pred_count - dropped[class_id]
        matched = [c for c in self.label_counts if self.pred_counts[c]]
        tables, label_areas = self._accumulate(matched, pred, label, pred_ids, label_ids, weights)
        self.scores = {class_id: 0.0 for class_id in self.label_counts}
        self.gradients = {}
        for class_id in matched:
            score, gradient = score_pair_table(tables[class_id], label_areas[class_id],
                                               dropped[class_id])
            self.scores[class_id] = score
            self.gradients[class_id] = gradient

    def _accumulate(self, matched, pred, label, pred_ids, label_ids, weights):
        """{class: (N + 1, M + 1) pair table}, {class: (N + 1,) label areas} of the matched
        classes."""
        self.table_offsets = np.full(self.num_classes, -1, dtype=np.int64)
        columns = np.zeros(self.num_classes, dtype=np.int64)
        area_offsets = np.zeros(self.num_classes, dtype=np.int64)
        self.table_size = area_size = 1  # entry 0 of both is the sink of unmatched pixels
        for class_id in matched:
            rows = self.label_counts[class_id] + 1
            columns[class_id] = self.pred_counts[class_id] + 1
            self.table_offsets[class_id], area_offsets[class_id] = self.table_size, area_size
            self.table_size += rows * columns[class_id]
            area_size += rows
        lane_tables = np.zeros((LANES, self.table_size))
        lane_areas = np.zeros((LANES, area_size), dtype=np.int64)
        # Unsigned: numba then skips the negative-index check on every table access.
        cell_type = np.uint32 if self.table_size < 2 ** 32 else np.uint64
        self.cells = scratch("cells", pred.shape, cell_type)
        accumulate_pair_tables(pred, label, pred_ids, label_ids, weights, self.table_offsets,
                               columns, area_offsets, self.cells, lane_tables, lane_areas)
        all_tables, all_areas = lane_tables.sum(axis=0), lane_areas.sum(axis=0)
        tables, label_areas = {}, {}
        for class_id in matched:
            rows, start = self.label_counts[class_id] + 1, self.table_offsets[class_id]
            tables[class_id] = all_tables[start:start + rows * columns[class_id]].reshape(rows, -1)
            label_areas[class_id] = all_areas[area_offsets[class_id]:area_offsets[class_id] + rows]
        return tables, label_areas

    def flat_gradients(self):
        """``gradients`` of all classes in one array, laid out in ``cells``' index space."""
        flat = np.zeros(self.table_size)
        for class_id, table in self.gradients.items():
            start = self.table_offsets[class_id]
            flat[start:start + table.size] = table.ravel()
        return flat
