"""Compiled (numba) loops of the component matching in ``component_matching``.

Both are plain loops that numpy cannot express without many passes over the image: the
accumulation of every component pair's intersection and of every component's area in one pass
over the pixels, and the scoring of a class's small pair table.
"""
import numpy as np

from pphumanseg.compiled import kernel

# Neighbouring pixels usually add into the same table cell; the additions are spread over this
# many copies of the tables (summed afterwards) so they do not wait on one another.
LANES = 4


@kernel
def accumulate_pair_tables(pred, label, pred_ids, label_ids, weights, table_offsets, columns,
                           area_offsets, cells, tables, label_areas):
    """Finds each pixel's component-pair cell and adds the pixel into it and its label component.

    Tables of all classes share one flat index space whose entry 0 is a sink for pixels outside
    every table (ignored, or of a class that is not matched).

    Args:
        pred, label: (H, W) class codes; ``C`` (the number of classes) marks ignored pixels.
        pred_ids, label_ids: (C, H, W) uint16 or int32 component ids of each class's mask (0
            outside it);
            only the planes of classes with ``table_offsets[c] >= 0`` are read.
        weights: (C, H, W) float pixel weights (class probabilities), or None to count pixels.
        table_offsets: (C,) start (>= 1) of class c's (N_c + 1) x (M_c + 1) pair table; -1 for
            classes that are not matched.
        columns: (C,) M_c + 1.
        area_offsets: (C,) start (>= 1) of class c's N_c + 1 label-component areas.
        cells: (H, W) unsigned int out: each pixel's pair cell in the tables of its predicted
            class.
        tables: (LANES, table size) float64, zero; receives the weight sum of every cell.
        label_areas: (LANES, area size) int64, zero; receives the pixel count of every g_i.
    """
    num_classes = pred_ids.shape[0]
    height, width = pred.shape
    label_cells = np.empty(width, dtype=cells.dtype)  # area size <= table size
    weight = np.zeros(width, dtype=tables.dtype)
    for y in range(height):
        # One vectorised pass per class plane finds the cells; then one scalar pass adds.
        cells[y] = 0
        label_cells[:] = 0
        for class_id in range(num_classes):
            offset, table_columns = table_offsets[class_id], columns[class_id]
            if offset < 0:
                continue
            area_offset = area_offsets[class_id]
            for x in range(width):
                if pred[y, x] == class_id:
                    cells[y, x] = (offset + label_ids[class_id, y, x] * table_columns
                                   + pred_ids[class_id, y, x])
                    weight[x] = 1.0 if weights is None else weights[class_id, y, x]
                if label[y, x] == class_id:
                    label_cells[x] = area_offset + label_ids[class_id, y, x]
        for x in range(width):
            lane = x & (LANES - 1)
            tables[lane, cells[y, x]] += weight[x]
            label_areas[lane, label_cells[x]] += 1


@kernel
def score_pair_table(table, label_area, dropped):
    """SC of one class from its pair table, and d SC / d weight per cell.

    Args:
        table: (N + 1, M + 1) float64 weight sums; row 0 holds predicted pixels outside every
            label component, column 0 is not read.
        label_area: (N + 1,) pixel counts of the label components (entry 0 unused).
        dropped: predicted components left out of the table (a cap); they count as lone.

    Returns:
        (score, gradient (N + 1, M + 1)): the gradient of a pixel of p_j lying in g_k is
        ``gradient[k, j]`` (k = 0 outside every g_i): 1/U_kj for its own pair, and -I_ij/U_ij^2
        for every other g_i matched with p_j (the pixel enlarges p_j only), each divided by
        m_i (g_i's matches) and by the denominator N + L.
    """
    rows, cols = table.shape
    pred_area = np.zeros(cols)
    for i in range(rows):
        for j in range(1, cols):
            pred_area[j] += table[i, j]
    matched = np.zeros(cols, dtype=np.bool_)
    matches = np.zeros(rows, dtype=np.int64)
    connectivity = 0.0
    for i in range(1, rows):
        iou_sum = 0.0
        for j in range(1, cols):
            if table[i, j] > 0:
                matches[i] += 1
                matched[j] = True
                iou_sum += table[i, j] / (pred_area[j] + label_area[i] - table[i, j])
        if matches[i]:
            connectivity += iou_sum / matches[i]
    lone = dropped
    for j in range(1, cols):
        if not matched[j]:
            lone += 1
    denominator = rows - 1 + lone
    gradient = np.zeros((rows, cols))
    outside_total = np.zeros(cols)
    for i in range(1, rows):
        for j in range(1, cols):
            if table[i, j] > 0:
                union = pred_area[j] + label_area[i] - table[i, j]
                inside = 1.0 / (matches[i] * union)
                outside = table[i, j] * inside / union
                gradient[i, j] = inside + outside
                outside_total[j] += outside
    for i in range(rows):
        for j in range(1, cols):
            gradient[i, j] = (gradient[i, j] - outside_total[j]) / denominator
    return connectivity / denominator, gradient
