"""The output operation appended to a model for export."""
import paddle
import paddle.nn.functional as F


class ExportHead(paddle.nn.Layer):
    """Returns the model's first output as class ids, safe probabilities or raw logits.

    Args:
        model (paddle.nn.Layer): segmentation model returning a list of logits [N, C, H, W].
        output_op (str): 'argmax' -> int32 [N, H, W]; 'softmax' -> float32 [N, C, H, W];
            'none' -> the logits.
    """

    def __init__(self, model, output_op):
        super().__init__()
        self.model = model
        self.output_op = output_op

    def forward(self, x):
        logits = self.model(x)[0]
        if self.output_op == "argmax":
            # paddle.argmax fails to trace in Paddle 3.3's legacy program mode (its patched
            # _C_ops call rejects a static Variable); top-1 of topk is the same class map.
            return paddle.topk(logits, k=1, axis=1)[1].squeeze(1).astype("int32")
        if self.output_op == "softmax":
            # exp of logits minus their channel max is at most 1: no overflow at any logit scale.
            return F.softmax(logits - paddle.max(logits, axis=1, keepdim=True), axis=1)
        return logits
