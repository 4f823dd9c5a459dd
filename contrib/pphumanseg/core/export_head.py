"""The output operation appended to a model for export."""
import paddle
import paddle.nn.functional as F
from paddle.base.layer_helper import LayerHelper
from paddle.framework import in_dynamic_or_pir_mode

from pphumanseg.utils.errors import ParameterError


class ExportHead(paddle.nn.Layer):
    """Returns the model's first output as class ids, safe probabilities or raw logits.

    Args:
        model (paddle.nn.Layer): segmentation model returning a list of logits [N, C, H, W].
        output_op (str): 'argmax' -> int32 [N, H, W]; 'softmax' -> float32 [N, C, H, W];
            'foreground' (two classes) -> float32 [N, 1, H, W], the probability of class 1;
            'none' -> the logits.
    """

    def __init__(self, model, output_op):
        super().__init__()
        num_classes = getattr(model, "num_classes", None)
        if output_op == "foreground" and num_classes != 2:
            raise ParameterError("output_op", output_op, "needs a two-class model (background, "
                                 f"foreground); {type(model).__name__} has num_classes={num_classes}")
        self.model = model
        self.output_op = output_op

    def forward(self, x):
        if self.output_op == "foreground":
            return _sigmoid(self._foreground_logit(x))
        logits = self.model(x)[0]
        if self.output_op == "argmax":
            # paddle.argmax fails to trace in Paddle 3.3's legacy program mode (its patched
            # _C_ops call rejects a static Variable); top-1 of topk is the same class map.
            return paddle.topk(logits, k=1, axis=1)[1].squeeze(1).astype("int32")
        if self.output_op == "softmax":
            # exp of logits minus their channel max is at most 1: no overflow at any logit scale.
            return F.softmax(logits - paddle.max(logits, axis=1, keepdim=True), axis=1)
        return logits

    def _foreground_logit(self, x):
        """l1 - l0 at the input size [N, 1, H, W]: softmax over two classes is sigmoid(l1 - l0).

        A model with ``low_res_logits`` and ``resize`` (ConnectNet) resizes only the difference,
        which equals the difference of the resized logits since bilinear resizing is linear:
        one channel at full resolution instead of two.
        """
        if hasattr(self.model, "low_res_logits"):
            logits = self.model.low_res_logits(x)
            return self.model.resize(_difference(logits), paddle.shape(x)[2:])
        return _difference(self.model(x)[0])


def _difference(logits):
    return logits[:, 1:2] - logits[:, 0:1]


def _sigmoid(x):
    """F.sigmoid, also in Paddle 3.3's legacy program mode, where F.sigmoid calls a PIR-only op
    (like argmax, see above); the legacy graph gets Paddle's own ``sigmoid`` op."""
    if in_dynamic_or_pir_mode():
        return F.sigmoid(x)
    helper = LayerHelper("sigmoid")
    out = helper.create_variable_for_type_inference(x.dtype)
    helper.append_op(type="sigmoid", inputs={"X": x}, outputs={"Out": out})
    return out
