"""Semantic connectivity loss (SC loss) of PP-HumanSeg (Chu et al., arXiv:2112.07146, Sec. 4).

The loss rewards predictions whose connected components match the label's one-to-one, so that a
portrait comes out as one whole region instead of fragments. For one image and one class c in the
label, components come from ``argmax == c`` and ``label == c`` (8-connectivity, OpenCV) and the
intersections and predicted areas are sums of the softmax probability P_c, which makes the score
``SC_c`` of ``pphumanseg.metrics.connectivity`` differentiable:

    loss_c = 1 - SC_c                                 (some component of c predicted)
    loss_c = 1 + sum_{label==c} (1 - P_c) / n_valid   (c labelled but never predicted)

averaged over the classes present in each image's label, then over the batch. Components are found
on the CPU from the argmax only; the pair tables come from ``pphumanseg.metrics.component_matching``
(shared with the hard metric), and the analytic gradient (per pair-table cell, gathered back to the
pixels, then through the softmax Jacobian) is computed in numpy in the forward pass and handed to
paddle by a ``paddle.autograd.PyLayer``.

Deliberate differences from paddleseg 2.8's ``SemanticConnectivityLoss`` (the reference):

- Gradient: with its default ``use_argmax=True`` the reference rebuilds the prediction as a new
  tensor, so no gradient reaches the logits; here every term is a function of the softmax
  probabilities and the gradient reaches the logits.
- Class scaling and background: the reference weights component masks by the argmax *class index*,
  so background IoU is always 0 and class k's IoU is scaled by k; here every class uses its own
  probability map and is treated alike.
- Ignored pixels: the reference finds predicted components on all pixels, so predictions inside
  ``ignore_index`` areas count; here ignored pixels are removed before finding components and count
  in neither the prediction nor the label.
- Missed class: the reference adds the hard missed area divided by H*W; here the soft missed area
  sum(1 - P_c) over the class's labelled pixels is divided by the number of valid (non-ignored)
  pixels, so the term is differentiable and independent of how much of the image is ignored.
- Component cap: the reference keeps only the first ``max_pred_num_conn - 1`` predicted components
  when there are more than twice as many as label components, and drops the rest from the loss
  entirely; here there is no cap by default, and with ``max_components`` the largest components are
  matched while the others count as lone (so fragmenting never lowers the loss).
"""
import numpy as np
import paddle
from paddle import nn
from paddle.autograd import PyLayer
from paddleseg.cvlibs import manager

from pphumanseg.metrics.component_matching import class_codes, match_class, pair_scores
from pphumanseg.utils.registry import register


def _as_numpy(tensor):
    """A numpy view of a CPU tensor (``Tensor.numpy()`` copies), or a host copy of a GPU tensor."""
    return np.from_dlpack(tensor.detach()) if tensor.place.is_cpu_place() else tensor.numpy()


def _to_tensor(array, place):
    """A tensor of a numpy array, sharing it on the CPU (``paddle.to_tensor`` copies)."""
    if place.is_cpu_place():
        return paddle.from_dlpack(array)
    return paddle.to_tensor(array, place=place)


def _softmax_and_argmax(logits):
    """Softmax over axis 1 of (N, C, H, W) logits, and the (N, H, W) argmax (the first maximum
    wins); one class at a time, which numpy does far faster than ``argmax(axis=1)``."""
    largest = logits[:, 0].copy()
    pred = np.zeros(largest.shape, np.uint8 if logits.shape[1] <= 256 else np.int32)
    for class_id in range(1, logits.shape[1]):
        np.copyto(pred, class_id, where=logits[:, class_id] > largest)
        np.maximum(largest, logits[:, class_id], out=largest)
    probabilities = logits - largest[:, None]
    np.exp(probabilities, out=probabilities)
    probabilities /= probabilities.sum(axis=1, out=largest)[:, None]
    return probabilities, pred


def _sc_gradient(matching, scores):
    """d SC / d weight of a pixel, per cell of ``matching.intersections``.

    A pixel of p_j lying in g_k (k = 0: in no label component) adds its weight to I_kj and to
    |p_j|: that gives 1 / U_kj for its own pair and -I_ij / U_ij^2 for every g_i matched with p_j
    (whose union grows), each divided by m_i (g_i's matches) and by the denominator N + L.
    """
    per_match = np.where(scores.overlaps, 1.0 / (np.maximum(scores.matches, 1)[:, None]
                                                 * scores.unions), 0.0)
    union_growth = scores.ious * per_match
    gradient = np.zeros(matching.intersections.shape)
    gradient[1:, 1:] = per_match + union_growth  # the column total below takes it away again
    gradient[:, 1:] -= union_growth.sum(axis=0)
    return gradient / scores.denominator


def _image_loss(pred, codes, probabilities, class_ids, max_components, gradient, scale):
    """The SC loss of one image (one term per class in its label), and ``scale`` times its
    gradient w.r.t. the probabilities written into the zeroed (C, H, W) ``gradient`` (if given).
    """
    matchings = {}
    for class_id in class_ids:
        matching = match_class(pred, codes, class_id, probabilities[class_id], max_components)
        if matching is not None:
            matchings[class_id] = matching
    if not matchings:
        return 0.0
    scale /= len(matchings)
    terms = []
    for class_id, matching in matchings.items():
        if matching.intersections.shape[1] > 1:  # some component of the class predicted
            scores = pair_scores(matching)
            terms.append(1.0 - scores.sc)
            if gradient is not None:
                table = (_sc_gradient(matching, scores) * -scale).astype(gradient.dtype)
                np.take(table.ravel(), matching.cells, out=gradient[class_id])
        else:
            labelled = codes == class_id
            valid_count = codes.size - np.count_nonzero(codes == len(probabilities))
            missed = np.count_nonzero(labelled) - float(
                probabilities[class_id].sum(where=labelled, dtype=np.float64))
            terms.append(1.0 + missed / valid_count)
            if gradient is not None:
                np.multiply(labelled, -scale / valid_count, out=gradient[class_id])
    return sum(terms) / len(terms)


def _loss_and_gradient(logits, label, ignore_index, max_components, classes, with_gradient):
    """The SC loss of a batch on numpy arrays (see the module docstring).

    Args:
        logits: (N, C, H, W) float32 or float64.
        label: (N, H, W) integer.
        ignore_index, max_components, classes: as ``SCLoss``.
        with_gradient: also return d loss / d logits.

    Returns:
        (loss, gradient): a float and an array like ``logits``, or None without ``with_gradient``.
    """
    batch, num_classes = logits.shape[:2]
    probabilities, pred = _softmax_and_argmax(logits)
    pred, codes = class_codes(pred, label, num_classes, ignore_index)
    class_ids = range(num_classes) if classes is None else classes
    gradient = np.zeros_like(probabilities) if with_gradient else None
    total = sum(_image_loss(pred[image], codes[image], probabilities[image], class_ids,
                            max_components, None if gradient is None else gradient[image],
                            1.0 / batch)
                for image in range(batch))
    if gradient is not None:  # through the softmax: dL/dz_k = P_k (dL/dP_k - sum_c dL/dP_c P_c)
        gradient -= np.einsum("nchw,nchw->nhw", gradient, probabilities)[:, None]
        gradient *= probabilities
    return total / batch, gradient


class _SCLossFunction(PyLayer):
    @staticmethod
    def forward(ctx, logits, label, ignore_index, max_components, classes, with_gradient):
        # float64 logits (gradient checks) are kept; anything else is computed in float32.
        ctx.logits_dtype, ctx.place = logits.dtype, logits.place
        if logits.dtype not in (paddle.float32, paddle.float64):
            logits = logits.astype(paddle.float32)
        value, ctx.gradient = _loss_and_gradient(_as_numpy(logits), label, ignore_index,
                                                 max_components, classes, with_gradient)
        return paddle.to_tensor(value, dtype=logits.dtype, place=ctx.place)

    @staticmethod
    def backward(ctx, output_gradient):
        gradient, ctx.gradient = ctx.gradient, None
        scale = output_gradient.item()
        if scale != 1.0:
            gradient *= scale
        gradient = _to_tensor(gradient, ctx.place)
        return gradient if gradient.dtype == ctx.logits_dtype else gradient.astype(ctx.logits_dtype)


@register(manager.LOSSES)
class SCLoss(nn.Layer):
    """Semantic connectivity loss; see the module docstring for the definition.

    Args:
        ignore_index: label value of pixels that count in neither prediction nor label.
        max_components: optional cap on the predicted components matched per image and class; the
            largest are kept and the rest count as lone components. None (default) matches all,
            which is fast enough not to need a cap.
        classes: optional list of class ids the loss is computed for; None means all classes,
            background included.
    """

    def __init__(self, ignore_index=255, max_components=None, classes=None):
        super().__init__()
        if max_components is not None and (not isinstance(max_components, int)
                                           or max_components < 1):
            raise ValueError(f"max_components must be a positive int or None, got "
                             f"{max_components!r}")
        if classes is not None:
            classes = list(classes)
            if (not classes or len(set(classes)) != len(classes)
                    or not all(isinstance(c, int) and c >= 0 for c in classes)):
                raise ValueError(f"classes must be a non-empty list of distinct class ids >= 0, "
                                 f"got {classes!r}")
        self.ignore_index = ignore_index
        self.max_components = max_components
        self.classes = classes

    def forward(self, logits, label):
        """Args:
            logits: [N, C, H, W] float tensor.
            label: [N, H, W] or [N, 1, H, W] integer tensor with values in [0, C) or ignore_index.

        Returns:
            0-d tensor, float64 for float64 logits and float32 otherwise.
        """
        if logits.ndim != 4:
            raise ValueError(f"SCLoss expects logits of shape [N, C, H, W], "
                             f"got {list(logits.shape)}")
        if label.ndim == 4 and label.shape[1] == 1:
            label = label.squeeze(1)
        batch, num_classes, height, width = logits.shape
        if list(label.shape) != [batch, height, width]:
            raise ValueError(f"SCLoss label shape {list(label.shape)} does not match logits shape "
                             f"{list(logits.shape)}; expected [{batch}, {height}, {width}] or "
                             f"[{batch}, 1, {height}, {width}]")
        if label.dtype not in (paddle.int64, paddle.int32, paddle.uint8, paddle.int16):
            raise ValueError(f"SCLoss label must be an integer tensor, got {label.dtype}")
        if self.classes is not None and max(self.classes) >= num_classes:
            raise ValueError(f"SCLoss classes {self.classes} include ids >= num_classes="
                             f"{num_classes} of logits {list(logits.shape)}")
        with_gradient = paddle.is_grad_enabled() and not logits.stop_gradient
        return _SCLossFunction.apply(logits, _as_numpy(label), self.ignore_index,
                                     self.max_components, self.classes, with_gradient)
