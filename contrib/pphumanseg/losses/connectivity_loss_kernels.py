"""Compiled (numba) per-pixel passes of ``SCLoss``: the softmax with the argmax and label codes,
and the gradient with respect to the logits.

Each walks an image row by row over whole class planes, so the inner loops vectorise.
"""
import numpy as np

from pphumanseg.compiled import kernel


@kernel
def _code_row(label, ignore_index, num_classes, codes):
    """Label codes of one row, C where ignored (or invalid); returns the number of label values
    that are neither a class nor ``ignore_index``."""
    invalid = 0
    for x in range(label.shape[0]):  # selects, not branches, so that the loop vectorises
        value = label[x]
        is_class = (value >= 0) & (value < num_classes) & (value != ignore_index)
        codes[x] = value if is_class else num_classes
        invalid += 0 if is_class or value == ignore_index else 1
    return invalid


@kernel
def _mark_ignored_row(codes, num_classes, pred):
    """Sets pred to C where the label code is C (ignored)."""
    for x in range(codes.shape[0]):
        if codes[x] == num_classes:
            pred[x] = num_classes


@kernel
def argmax_and_codes(logits, label, ignore_index, shifted, pred, codes):
    """Class argmax, label codes and max-shifted logits of one image.

    Args:
        logits: (C, H, W) float.
        label: (H, W) integer label, ``ignore_index`` where unlabelled.
        shifted: (C, H, W) out: logits minus their per-pixel maximum (the softmax's safe exponent).
        pred: (H, W) out: argmax class (first maximum wins), C where the label is ignored.
        codes: (H, W) out: the label class, C where ignored.

    Returns:
        The number of label values that are neither a class nor ``ignore_index``.
    """
    num_classes, height, width = logits.shape
    best = np.empty(width, dtype=logits.dtype)
    invalid = 0
    for y in range(height):
        best[:] = logits[0, y]
        pred[y] = 0
        for class_id in range(1, num_classes):
            for x in range(width):
                if logits[class_id, y, x] > best[x]:
                    best[x] = logits[class_id, y, x]
                    pred[y, x] = class_id
        for class_id in range(num_classes):
            for x in range(width):
                shifted[class_id, y, x] = logits[class_id, y, x] - best[x]
        invalid += _code_row(label[y], ignore_index, num_classes, codes[y])
        _mark_ignored_row(codes[y], num_classes, pred[y])
    return invalid


@kernel
def normalize(exponentials):
    """Divides (C, H, W) exponentials by their per-pixel sum, in place (the softmax's last step)."""
    num_classes, height, width = exponentials.shape
    total = np.empty(width, dtype=exponentials.dtype)
    one = np.ones(1, dtype=exponentials.dtype)[0]  # keeps float32 arithmetic in float32
    for y in range(height):
        total[:] = exponentials[0, y]
        for class_id in range(1, num_classes):
            for x in range(width):
                total[x] += exponentials[class_id, y, x]
        for x in range(width):
            total[x] = one / total[x]
        for class_id in range(num_classes):
            for x in range(width):
                exponentials[class_id, y, x] *= total[x]


# Two classes need one exponential per pixel instead of two: with e = exp(-|z1 - z0|), the
# larger class has probability 1 / (1 + e) and the other e / (1 + e).
@kernel
def two_class_argmax_and_codes(logits, label, ignore_index, exponent, pred, codes):
    """``argmax_and_codes`` for (2, H, W) logits, writing -|z1 - z0| into the (H, W) ``exponent``;
    ``two_class_softmax`` then marks the ignored pixels in ``pred``."""
    height, width = label.shape
    invalid = 0
    for y in range(height):
        for x in range(width):
            difference = logits[1, y, x] - logits[0, y, x]
            pred[y, x] = difference > 0
            exponent[y, x] = -abs(difference)
        invalid += _code_row(label[y], ignore_index, 2, codes[y])
    return invalid


@kernel
def two_class_softmax(pred, codes, probabilities):
    """Softmax from the argmax ``pred`` and plane 1 of ``probabilities``, which holds
    exp(-|z1 - z0|) on entry; then sets ``pred`` to 2 where ``codes`` is 2 (ignored)."""
    height, width = pred.shape
    one = np.ones(1, dtype=probabilities.dtype)[0]  # keeps float32 arithmetic in float32
    for y in range(height):
        for x in range(width):
            exponential = probabilities[1, y, x]
            larger = one / (one + exponential)
            smaller = exponential * larger
            class1_larger = pred[y, x] == 1
            probabilities[0, y, x] = smaller if class1_larger else larger
            probabilities[1, y, x] = larger if class1_larger else smaller
        _mark_ignored_row(codes[y], 2, pred[y])


@kernel
def logits_gradient(pred, codes, cells, probabilities, table, missed_gradient, out):
    """d loss / d logits of one image, through the softmax Jacobian.

    The loss depends on P_c of a pixel only where c is its predicted class (through the pixel's
    pair cell) or its label class when c is missed (the missed fraction): dL/dP is g_a at channel
    a = pred and g_b at channel b = label, so dL/dz_k = P_k * (g_k - g_a P_a - g_b P_b).

    Args:
        pred, codes: (H, W) predicted and label class codes, C where ignored.
        cells: (H, W) each pixel's pair cell (``ImageMatching.cells``).
        probabilities: (C, H, W) softmax.
        table: d loss / d P per pair cell (from ``ImageMatching.flat_gradients``); entry 0 is 0.
        missed_gradient: (C,) d loss / d P_c on the labelled pixels of a missed class c, else 0.
        out: (C, H, W) receives the gradient.
    """
    num_classes, height, width = probabilities.shape
    any_missed = np.any(missed_gradient != 0)
    pred_gradient = np.empty(width, dtype=probabilities.dtype)
    shift = np.empty_like(pred_gradient)
    for y in range(height):
        for x in range(width):
            pred_gradient[x] = table[cells[y, x]]
        shift[:] = 0
        for class_id in range(num_classes):
            for x in range(width):
                if pred[y, x] == class_id:
                    shift[x] += pred_gradient[x] * probabilities[class_id, y, x]
        if any_missed:
            for class_id in range(num_classes):
                missed = missed_gradient[class_id]
                for x in range(width):
                    if codes[y, x] == class_id:
                        shift[x] += missed * probabilities[class_id, y, x]
        for class_id in range(num_classes):
            missed = missed_gradient[class_id]
            for x in range(width):
                gradient = -shift[x]
                if pred[y, x] == class_id:
                    gradient += pred_gradient[x]
                if any_missed and codes[y, x] == class_id:
                    gradient += missed
                out[class_id, y, x] = probabilities[class_id, y, x] * gradient
