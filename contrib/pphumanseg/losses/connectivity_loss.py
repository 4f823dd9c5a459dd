"""Semantic connectivity loss (SC loss) of PP-HumanSeg (Chu et al., arXiv:2112.07146, Sec. 4).

The loss rewards predictions whose connected components match the label's one-to-one, so that a
portrait comes out as one whole region instead of fragments. For one image and one class c in the
label, components come from ``argmax == c`` and ``label == c`` (8-connectivity, OpenCV) and the
intersections and predicted areas are sums of the softmax probability P_c, which makes the score
``SC_c`` of ``pphumanseg.metrics.connectivity`` differentiable:

    loss_c = 1 - SC_c                                 (some component of c predicted)
    loss_c = 1 + sum_{label==c} (1 - P_c) / n_valid   (c labelled but never predicted)

averaged over the classes present in each image's label, then over the batch. Components are found
on the CPU from the argmax only; all pair intersections and predicted areas of a class come from
one bincount over the image's pixels, and the analytic gradient
(``ComponentMatching.score_gradient_table`` followed by the softmax Jacobian) is applied in a
``paddle.autograd.PyLayer``. Images are spread over a few threads (OpenCV and numpy's element-wise
passes release the GIL).

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
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import paddle
from paddle import nn
from paddle.autograd import PyLayer
from paddleseg.cvlibs import manager

from pphumanseg._registry import register
from pphumanseg.metrics.connectivity import class_codes, find_components, match_components


def _as_numpy(tensor):
    """A numpy view of a CPU tensor (``Tensor.numpy()`` copies), or a host copy of a GPU tensor."""
    if tensor.place.is_cpu_place():
        return np.from_dlpack(tensor.detach())
    return tensor.numpy()


def _to_tensor(array, place):
    """A paddle tensor of a numpy array: shared on the CPU (``paddle.to_tensor`` copies)."""
    if place.is_cpu_place():
        return paddle.from_dlpack(array)
    return paddle.to_tensor(array, place=place)


def _map_over_images(function, image_count):
    """``[function(i) for i in range(image_count)]`` on a small thread pool.

    OpenCV and numpy's element-wise passes release the GIL, so images overlap on several cores.
    """
    global _IMAGE_POOL
    if _IMAGE_WORKERS == 1 or image_count == 1:
        return [function(image) for image in range(image_count)]
    if _IMAGE_POOL is None:
        _IMAGE_POOL = ThreadPoolExecutor(max_workers=_IMAGE_WORKERS,
                                         thread_name_prefix="pphumanseg-scloss")
    return list(_IMAGE_POOL.map(function, range(image_count)))


_IMAGE_WORKERS = min(4, os.cpu_count() or 1)
_IMAGE_POOL = None


def _argmax_and_softmax(logits, probabilities):
    """Class argmax (first maximum wins, as ``paddle.argmax``) and softmax of (C, H, W) logits.

    The softmax is written into ``probabilities``. A running maximum over the C class planes is
    several times faster than numpy's ``argmax(axis=0)`` and also gives the softmax shift.
    """
    num_classes = logits.shape[0]
    best = logits[0].copy()
    pred = np.zeros(best.shape, dtype=np.uint8 if num_classes < 255 else np.int32)
    for class_id in range(1, num_classes):
        better = logits[class_id] > best
        np.copyto(pred, class_id, where=better)
        np.maximum(best, logits[class_id], out=best)
    np.subtract(logits, best, out=probabilities)
    np.exp(probabilities, out=probabilities)
    probabilities *= np.reciprocal(probabilities.sum(axis=0))
    return pred


class _ImageClassTerm:
    """One (image, class) term of the loss: its value and d term / d P_c.

    Args:
        value: the term.
        matching: the ``ComponentMatching`` the term is 1 - score of, or None for a missed class.
        missed_mask: for a missed class, the flat bool mask of its labelled pixels.
        valid_count: for a missed class, the number of valid pixels of the image.
    """

    def __init__(self, value, matching=None, missed_mask=None, valid_count=None):
        self.value = value
        self.matching = matching
        self.missed_mask = missed_mask
        self.valid_count = valid_count

    def write_gradient(self, scale, out):
        """Writes ``scale`` * d term / d P_c of every pixel into the flat (H*W,) array ``out``."""
        if self.matching is not None:
            table = self.matching.score_gradient_table(out.dtype)
            np.take(table * out.dtype.type(-scale), self.matching.pair_key, out=out)
        else:
            np.multiply(self.missed_mask, out.dtype.type(-scale / self.valid_count), out=out)


class _SCLossComputation:
    """Forward value of the SC loss on numpy arrays, and its gradient w.r.t. the logits.

    Args:
        logits: (N, C, H, W) float32 or float64.
        label: (N, H, W) integer.
        ignore_index, max_components, classes: as ``SCLoss``.
    """

    def __init__(self, logits, label, ignore_index, max_components, classes):
        self.batch, self.num_classes = logits.shape[:2]
        self.ignore_index, self.max_components = ignore_index, max_components
        self.class_ids = range(self.num_classes) if classes is None else classes
        self.probabilities = np.empty(logits.shape, dtype=logits.dtype)
        # Per image: [(class id, term)] over the classes present in its label.
        self.image_terms = _map_over_images(
            lambda image: self._image_forward(logits[image], label[image], image), self.batch)
        self.value = float(np.mean([np.mean([term.value for _, term in terms]) if terms else 0.0
                                    for terms in self.image_terms]))

    def _image_forward(self, logits, label, image):
        # Ignored pixels get the non-class code C in both maps, so `== c` never selects them.
        label = class_codes(label, self.num_classes, self.ignore_index)
        ignored = label == self.num_classes
        valid_count = ignored.size - np.count_nonzero(ignored)
        pred = _argmax_and_softmax(logits, self.probabilities[image])
        np.copyto(pred, self.num_classes, where=ignored)
        terms = []
        for class_id in self.class_ids:
            label_components = find_components(label == class_id)
            if label_components.count == 0:
                continue
            pred_components = find_components(pred == class_id)
            probability = self.probabilities[image, class_id].ravel()
            if pred_components.count == 0:
                missed_mask = (label == class_id).ravel()
                missed = np.count_nonzero(missed_mask) - float(
                    probability.sum(where=missed_mask, dtype=np.float64))
                term = _ImageClassTerm(1.0 + missed / valid_count, missed_mask=missed_mask,
                                       valid_count=valid_count)
            else:
                matching = match_components(pred_components, label_components, probability,
                                            self.max_components)
                term = _ImageClassTerm(1.0 - matching.score, matching=matching)
            terms.append((class_id, term))
        return terms

    def logits_gradient(self, output_gradient):
        """d loss / d logits (N, C, H, W), in the logits' dtype, given d (final) / d loss."""
        gradient = np.empty_like(self.probabilities)

        def image_backward(image):
            terms = dict(self.image_terms[image])
            planes = gradient[image].reshape(self.num_classes, -1)
            for class_id in range(self.num_classes):
                if class_id in terms:
                    terms[class_id].write_gradient(output_gradient / (len(terms) * self.batch),
                                                   planes[class_id])
                else:
                    planes[class_id] = 0
            if not terms:
                return
            # Softmax Jacobian: dL/dz_k = P_k * (dL/dP_k - sum_c dL/dP_c * P_c).
            probabilities = self.probabilities[image]
            image_gradient = gradient[image]
            image_gradient -= np.einsum("c...,c...->...", image_gradient, probabilities)
            image_gradient *= probabilities

        _map_over_images(image_backward, self.batch)
        return gradient


class _SCLossFunction(PyLayer):
    @staticmethod
    def forward(ctx, logits, label, ignore_index, max_components, classes):
        # float64 logits (gradient checks) are kept; anything else is computed in float32.
        ctx.logits_dtype = logits.dtype
        if logits.dtype not in (paddle.float32, paddle.float64):
            logits = logits.astype(paddle.float32)
        computation = _SCLossComputation(_as_numpy(logits), label,
                                         ignore_index, max_components, classes)
        ctx.computation = computation
        ctx.logits_place = logits.place
        return paddle.full([], computation.value, dtype=logits.dtype)

    @staticmethod
    def backward(ctx, output_gradient):
        gradient = ctx.computation.logits_gradient(float(output_gradient))
        gradient = _to_tensor(gradient, ctx.logits_place)
        if gradient.dtype != ctx.logits_dtype:
            gradient = gradient.astype(ctx.logits_dtype)
        return gradient


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
        return _SCLossFunction.apply(logits, _as_numpy(label), self.ignore_index,
                                     self.max_components, self.classes)
