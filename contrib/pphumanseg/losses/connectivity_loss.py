"""Semantic connectivity loss (SC loss) of PP-HumanSeg (Chu et al., arXiv:2112.07146, Sec. 4).

The loss rewards predictions whose connected components match the label's one-to-one, so that a
portrait comes out as one whole region instead of fragments. For one image and one class c in the
label, components come from ``argmax == c`` and ``label == c`` (8-connectivity, OpenCV) and the
intersections and predicted areas are sums of the softmax probability P_c, which makes the score
``SC_c`` of ``pphumanseg.metrics.connectivity`` differentiable:

    loss_c = 1 - SC_c                                 (some component of c predicted)
    loss_c = 1 + sum_{label==c} (1 - P_c) / n_valid   (c labelled but never predicted)

averaged over the classes present in each image's label, then over the batch. Components are found
on the CPU from the argmax only (``pphumanseg.metrics.component_matching``); all pair
intersections, predicted areas and label areas of an image come from one compiled pass over its
pixels (numba), and the analytic gradient (per pair cell, then through the softmax Jacobian, in
``connectivity_loss_kernels``) is computed in the same forward pass, while the image is in the
CPU's caches, and handed to paddle by a ``paddle.autograd.PyLayer``. Images are spread over a
few threads (OpenCV, numpy's element-wise passes and the numba kernels release the GIL).

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
import contextlib
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import paddle
from paddle import nn
from paddle.autograd import PyLayer
from paddleseg.cvlibs import manager

from pphumanseg.utils.registry import register
from pphumanseg.losses import connectivity_loss_kernels as kernels
from pphumanseg.metrics.component_matching import ImageMatching, component_id_type
from pphumanseg.metrics.connectivity import class_codes
from pphumanseg.scratch import recycled, scratch


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
    """``[function(i) for i in range(image_count)]``, with the calling thread and a few helper
    threads taking images from a shared counter.

    OpenCV, numpy's element-wise passes and the numba kernels release the GIL, so images overlap
    on several cores. The caller does not hand its work off: on a virtual machine an idle core
    can take milliseconds to wake, and a helper that starts late only finds fewer images left
    (never worse than one thread, as a plain thread pool can be).
    """
    if _IMAGE_WORKERS == 1 or image_count == 1:
        return [function(image) for image in range(image_count)]
    results = [None] * image_count
    errors = []
    next_image = itertools.count()  # next() on it is atomic under the GIL
    pending = threading.Semaphore(0)  # released once per finished image

    def take_images():
        for image in iter(next_image.__next__, None):
            if image >= image_count:
                return
            try:
                results[image] = function(image)
            except BaseException as error:  # re-raised by the caller
                errors.append(error)
            pending.release()

    for _ in range(_IMAGE_WORKERS - 1):  # a helper that starts late finds no images
        _helper_pool().submit(take_images)
    take_images()
    for _ in range(image_count):
        pending.acquire()
    if errors:
        raise errors[0]
    return results


def _helper_pool():
    global _IMAGE_POOL
    if _IMAGE_POOL is None:
        _IMAGE_POOL = ThreadPoolExecutor(max_workers=_IMAGE_WORKERS - 1,
                                         thread_name_prefix="pphumanseg-scloss")
    return _IMAGE_POOL


_IMAGE_WORKERS = min(4, os.cpu_count() or 1)
_IMAGE_POOL = None


def _forget_the_parents_pool():
    # A forked child has none of the pool's threads: tasks queued there would never run (and
    # would keep their images' arrays alive), so the child starts a pool of its own.
    global _IMAGE_POOL
    _IMAGE_POOL = None


os.register_at_fork(after_in_child=_forget_the_parents_pool)


@contextlib.contextmanager
def _opencv_single_threaded():
    """OpenCV's own worker threads would only compete with the image threads (they busy-wait
    between calls). Set before any helper starts."""
    opencv_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(opencv_threads)


def _softmax_argmax_and_codes(logits, label, ignore_index, probabilities, pred, codes):
    """Softmax of (C, H, W) logits into ``probabilities``, the argmax (C where ignored) into
    ``pred`` and the label codes into ``codes``; returns the number of invalid label values."""
    if logits.shape[0] == 2:
        exponent = probabilities[1]
        invalid = kernels.two_class_argmax_and_codes(logits, label, ignore_index, exponent, pred,
                                                     codes)
        np.exp(exponent, out=exponent)
        kernels.two_class_softmax(pred, codes, probabilities)
    else:
        invalid = kernels.argmax_and_codes(logits, label, ignore_index, probabilities, pred, codes)
        np.exp(probabilities, out=probabilities)
        kernels.normalize(probabilities)
    return invalid


class _ImageLoss:
    """The SC loss of one image: one term per class present in its label.

    Args:
        matching: the image's ``ImageMatching`` (soft, weighted by the softmax).
        pred, codes: (H, W) predicted and label class codes (C where ignored).
        probabilities: (C, H, W) softmax of the image's logits.
    """

    def __init__(self, matching, pred, codes, probabilities):
        self.matching, self.pred, self.codes = matching, pred, codes
        self.probabilities = probabilities
        num_classes = probabilities.shape[0]
        self.terms = {}  # class -> term value
        self.missed_gradient = np.zeros(num_classes)  # d term / d P_c on pixels labelled c
        for class_id, score in matching.scores.items():
            if class_id in matching.gradients:
                self.terms[class_id] = 1.0 - score
                continue
            labelled = codes == class_id
            valid_count = codes.size - np.count_nonzero(codes == num_classes)
            missed = np.count_nonzero(labelled) - float(
                probabilities[class_id].sum(where=labelled, dtype=np.float64))
            self.terms[class_id] = 1.0 + missed / valid_count
            self.missed_gradient[class_id] = -1.0 / valid_count
        self.value = sum(self.terms.values()) / len(self.terms) if self.terms else 0.0

    def logits_gradient(self, scale, out):
        """Writes ``scale`` * d value / d logits into the (C, H, W) array ``out``."""
        if not self.terms:
            out[...] = 0
            return
        scale /= len(self.terms)
        dtype = self.probabilities.dtype
        # d term / d P = -d SC / d P for a matched class.
        table = self.matching.flat_gradients() * -scale
        kernels.logits_gradient(self.pred, self.codes, self.matching.cells, self.probabilities,
                                table.astype(dtype), (self.missed_gradient * scale).astype(dtype),
                                out)


class _SCLossComputation:
    """The SC loss of a batch on numpy arrays and, if asked, its gradient w.r.t. the logits.

    The gradient is computed in the forward pass, image by image, while the image's
    probabilities and component maps are still in the CPU's caches; backward only scales it.

    Args:
        logits: (N, C, H, W) float32 or float64.
        label: (N, H, W) integer.
        ignore_index, max_components, classes: as ``SCLoss``.
        gradient: optional (N, C, H, W) array that receives d value / d logits.
    """

    def __init__(self, logits, label, ignore_index, max_components, classes, gradient=None):
        self.batch, self.num_classes = logits.shape[:2]
        self.ignore_index, self.max_components = ignore_index, max_components
        self.class_ids = range(self.num_classes) if classes is None else classes
        self.gradient = gradient
        # OpenCV labels with its own threads only into 32-bit ids; changing its thread count
        # restarts its thread pool (~0.1 ms), so it is left alone for 16-bit ids.
        opencv_in_parallel = component_id_type(logits.shape[2:]) is not np.uint16
        with _opencv_single_threaded() if opencv_in_parallel else contextlib.nullcontext():
            values = _map_over_images(
                lambda image: self._image(logits[image], label[image], image), self.batch)
        self.value = float(np.mean(values))

    def _image(self, logits, label, image):
        code_type = np.uint8 if self.num_classes < 255 else np.int32
        pred = scratch("pred", label.shape, code_type)
        codes = scratch("codes", label.shape, code_type)
        probabilities = scratch("probabilities", logits.shape, logits.dtype)
        if _softmax_argmax_and_codes(logits, label, self.ignore_index, probabilities, pred, codes):
            class_codes(label, self.num_classes, self.ignore_index)  # raises, naming the values
        matching = ImageMatching(pred, codes, self.num_classes, self.class_ids, probabilities,
                                 self.max_components)
        image_loss = _ImageLoss(matching, pred, codes, probabilities)
        if self.gradient is not None:
            image_loss.logits_gradient(1.0 / self.batch, self.gradient[image])
        return image_loss.value


class _SCLossFunction(PyLayer):
    @staticmethod
    def forward(ctx, logits, label, ignore_index, max_components, classes, with_gradient):
        # float64 logits (gradient checks) are kept; anything else is computed in float32.
        ctx.logits_dtype = logits.dtype
        if logits.dtype not in (paddle.float32, paddle.float64):
            logits = logits.astype(paddle.float32)
        logits_array = _as_numpy(logits)
        value = np.zeros((), dtype=logits_array.dtype)
        # The gradient array is shared with the tensor backward returns; it is used again once
        # paddle has freed that tensor (a fresh one would page-fault in every step).
        gradient = (recycled("sc_loss_gradient", logits_array.shape, logits_array.dtype)
                    if with_gradient else None)

        def tensors():
            return (_to_tensor(value, logits.place),
                    None if gradient is None else _to_tensor(gradient, logits.place))

        # On the CPU the tensors share the arrays, so they are made first: after the per-image
        # work paddle's first call is slow (~0.2 ms here; its code has left the CPU's caches).
        on_cpu = logits.place.is_cpu_place()
        if on_cpu:
            output, ctx.gradient = tensors()
        value[()] = _SCLossComputation(logits_array, label, ignore_index, max_components, classes,
                                       gradient).value
        if not on_cpu:  # copies
            output, ctx.gradient = tensors()
        return output

    @staticmethod
    def backward(ctx, output_gradient):
        gradient, ctx.gradient = ctx.gradient, None  # the returned tensor is then its only holder
        scale = output_gradient.item()
        if scale != 1.0:
            gradient.scale_(scale)
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
        with_gradient = paddle.is_grad_enabled() and not logits.stop_gradient
        return _SCLossFunction.apply(logits, _as_numpy(label), self.ignore_index,
                                     self.max_components, self.classes, with_gradient)
