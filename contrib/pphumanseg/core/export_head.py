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
            return paddle.argmax(logits, axis=1, dtype="int32")
        if self.output_op == "softmax":
            # exp of logits minus their channel max is at most 1: no overflow at any logit scale.
            return F.softmax(logits - paddle.max(logits, axis=1, keepdim=True), axis=1)
        return logits
