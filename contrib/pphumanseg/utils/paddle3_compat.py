"""Fixes for running paddleseg 2.8.0 code on PaddlePaddle 3.x, each active only inside a ``with``
block (importing pphumanseg applies none). Each repairs one breakage:

1. ``CrossEntropyLoss._post_process_loss`` multiplies a float32 mask by ``ones_like(label)``
   (int64); Paddle 3 refuses int/float type promotion.
2. ``paddleseg.core.train`` averages per-term losses with ``l[0]``; Paddle 3 losses are 0-d.
   Loss terms are reshaped to ``[1]`` as Paddle 2 returned them.
3. ``utils.metrics.calculate_area`` (paddleseg's ``core.evaluate``) concatenates 0-d sums.
4. In the legacy static graph (``FLAGS_enable_pir_api=0``), ``paddle.multiply`` and
   ``paddle.logical_and`` call PIR-only ops ("must be Value, but got Variable"); paddleseg's
   MobileNetV3 SE block and ``tensor_fusion`` use them (MobileSeg, PP-HumanSegV2). They fall
   back to the legacy ops there and are unchanged elsewhere.

Who uses which: :func:`cross_entropy_on_paddle3` (1) wraps the loss of pphumanseg's train step
(``pphumanseg train``) and ``scripts/bench_scl.py``; :func:`paddleseg_training_on_paddle3`
(1-3) is for paddleseg's own ``core.train``/``core.evaluate``, which only
``scripts/bench_train.py`` and users' scripts run; :func:`legacy_graph_ops` (4) wraps the
legacy-format ``jit.save`` of ``pphumanseg export``, the only legacy graph pphumanseg builds.
Each swaps process-wide attributes while its block runs.
"""
import contextlib
import importlib

import paddle
import paddle.nn.functional as F
import paddleseg.utils.metrics as ppseg_metrics
from paddle.framework import in_dynamic_or_pir_mode
from paddle.tensor.logic import _logical_op
from paddleseg.models.losses.cross_entropy_loss import CrossEntropyLoss

# paddleseg.core re-exports the function ``train`` under the module's name.
ppseg_train = importlib.import_module("paddleseg.core.train")


def _post_process_loss(self, logit, label, semantic_weights, loss):
    """Reduces a per-pixel CE loss like paddleseg 2.8 does, with every operand in float32."""
    if self.avg_non_ignore:
        mask = paddle.cast(label != self.ignore_index, "float32")
    else:
        mask = paddle.ones(label.shape, dtype="float32")
    mask.stop_gradient = True
    label.stop_gradient = True
    if loss.ndim > mask.ndim:
        loss = paddle.squeeze(loss, axis=-1)
    loss = loss * mask
    if semantic_weights is not None:
        loss = loss * semantic_weights
    if self.weight is not None:
        one_hot = F.one_hot(label * paddle.cast(mask, label.dtype), logit.shape[-1])
        coef = paddle.sum(one_hot * self.weight, axis=-1)
    else:
        coef = paddle.ones(label.shape, dtype="float32")
    if self.top_k_percent_pixels == 1.0:
        return paddle.mean(loss) / (paddle.mean(mask * coef) + self.EPS)
    loss = loss.reshape((-1,))
    top_k_pixels = int(self.top_k_percent_pixels * loss.numel())
    loss, indices = paddle.topk(loss, top_k_pixels)
    coef = paddle.gather(coef.reshape((-1,)), indices)
    coef.stop_gradient = True
    return loss.mean() / (paddle.mean(coef) + self.EPS)


def _loss_terms_as_1d(loss_computation):
    def wrapped(*args, **kwargs):
        return [paddle.reshape(term, [1]) for term in loss_computation(*args, **kwargs)]

    return wrapped


def calculate_area(pred, label, num_classes, ignore_index=255):
    """Per-class intersection, prediction and label areas (int64 tensors of shape [num_classes])."""
    if pred.ndim == 4:
        pred = paddle.squeeze(pred, axis=1)
    if label.ndim == 4:
        label = paddle.squeeze(label, axis=1)
    if pred.shape != label.shape:
        raise ValueError(f"Shape of `pred` and `label` should be equal, "
                         f"but there are {pred.shape} and {label.shape}.")
    valid = label != ignore_index
    pred_areas, label_areas, intersect_areas = [], [], []
    for class_id in range(num_classes):
        pred_i = paddle.logical_and(pred == class_id, valid)
        label_i = label == class_id
        pred_areas.append(paddle.sum(paddle.cast(pred_i, "int64")))
        label_areas.append(paddle.sum(paddle.cast(label_i, "int64")))
        intersect_areas.append(paddle.sum(paddle.cast(paddle.logical_and(pred_i, label_i), "int64")))
    return paddle.stack(intersect_areas), paddle.stack(pred_areas), paddle.stack(label_areas)


def _legacy_graph_multiply(multiply):
    def wrapped(x, y, name=None):
        if in_dynamic_or_pir_mode():
            return multiply(x, y, name=name)
        return x * y  # the legacy elementwise_mul of Variable's operator

    return wrapped


def _legacy_graph_logical_and(logical_and):
    def wrapped(x, y, out=None, name=None):
        if in_dynamic_or_pir_mode():
            return logical_and(x, y, out=out, name=name)
        return _logical_op("logical_and", x, y, out=out, name=name, binary_op=True)

    return wrapped


@contextlib.contextmanager
def _patched(replacements):
    """Sets ``(owner, attribute, value)`` attributes for the block and restores them after."""
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in replacements]
    for owner, name, value in replacements:
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, value in reversed(originals):
            setattr(owner, name, value)


def cross_entropy_on_paddle3():
    """Context manager: paddleseg's ``CrossEntropyLoss`` computes in float32 (fix 1)."""
    return _patched([(CrossEntropyLoss, "_post_process_loss", _post_process_loss)])


def paddleseg_training_on_paddle3():
    """Context manager: paddleseg's ``core.train`` and ``core.evaluate`` run (fixes 1-3)."""
    return _patched([(CrossEntropyLoss, "_post_process_loss", _post_process_loss),
                     (ppseg_train, "loss_computation", _loss_terms_as_1d(ppseg_train.loss_computation)),
                     (ppseg_metrics, "calculate_area", calculate_area)])


def legacy_graph_ops():
    """Context manager: ``paddle.multiply`` and ``paddle.logical_and`` trace into legacy static
    graphs (fix 4)."""
    return _patched([(paddle, "multiply", _legacy_graph_multiply(paddle.multiply)),
                     (paddle, "logical_and", _legacy_graph_logical_and(paddle.logical_and))])
