"""ExportHead in dygraph: ``foreground`` is softmax's channel 1, both for ConnectNet (resized from
its low-resolution logit difference) and for a model without ``low_res_logits`` (difference of
the full-resolution logits), with no NaN at huge logits; it needs a two-class model."""
import numpy as np
import paddle
import pytest

import pphumanseg  # noqa: F401  (registrations and paddleseg compat patches)
from pphumanseg.core.export_head import ExportHead
from pphumanseg.models import ConnectNet
from pphumanseg.utils.errors import UsageError


class PlainSegmenter(paddle.nn.Layer):
    """A two-class model returning [logits] at the input size, with no ``low_res_logits``."""

    def __init__(self, scale):
        super().__init__()
        self.num_classes = 2
        self.conv = paddle.nn.Conv2D(3, 2, 3, padding=1)
        self.scale = scale

    def forward(self, x):
        return [self.conv(x) * self.scale]


def randomized(model, seed):
    rng = np.random.default_rng(seed)
    for name, parameter in model.named_parameters():
        low_high = (0.5, 1.5) if name.endswith("_variance") else (-0.7, 0.7)
        parameter.set_value(rng.uniform(*low_high, parameter.shape).astype("float32"))
    model.eval()
    return model


MODELS = {
    "connectnet": lambda: randomized(ConnectNet(relu_logits=False), 1),
    "plain": lambda: randomized(PlainSegmenter(1.0), 2),
    "plain-huge-logits": lambda: randomized(PlainSegmenter(1e4), 3),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_foreground_is_the_softmax_class_1_channel(name):
    model = MODELS[name]()
    resized_channels = []
    if isinstance(model, ConnectNet):  # record what the final resize gets
        resize = model.resize

        def recording_resize(logit, size):
            resized_channels.append(logit.shape[1])
            return resize(logit, size)

        model.resize = recording_resize
    x = paddle.to_tensor(np.random.default_rng(4).normal(size=(2, 3, 37, 53)).astype("float32"))
    with paddle.no_grad():
        softmax = ExportHead(model, "softmax")(x).numpy()
        foreground = ExportHead(model, "foreground")(x).numpy()
    if isinstance(model, ConnectNet):
        assert resized_channels == [2, 1]  # softmax resizes both logits, foreground one
    assert foreground.shape == (2, 1, 37, 53) and foreground.dtype == np.float32
    assert np.isfinite(foreground).all()
    assert np.ptp(foreground) > 0.01  # not a constant map
    np.testing.assert_allclose(foreground[:, 0], softmax[:, 1], atol=1e-5)


def test_foreground_needs_two_classes():
    model = PlainSegmenter(1.0)
    model.num_classes = 3
    with pytest.raises(UsageError, match="needs a two-class model .* num_classes=3"):
        ExportHead(model, "foreground")
