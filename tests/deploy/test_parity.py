"""One exported ConnectNet, one input: dygraph, Paddle Inference, ONNX Runtime and Paddle Lite x86
agree pairwise (probabilities within 1e-4, decisions on >= 99.99 % of pixels), also with logits
past 1000 (no NaN anywhere), for the softmax (2-channel) and foreground (1-channel probability)
exports; the argmax (class ids), softmax and foreground exports agree with each other."""
import itertools

import numpy as np
import pytest

from pphumanseg_deploy import Predictor

RUNTIMES = ("paddle", "onnx", "lite")


def dygraph_softmax(weights, batch):
    import paddle

    from pphumanseg.models import ConnectNet, load_weights

    model = load_weights(ConnectNet(num_classes=2), str(weights))
    model.eval()
    with paddle.no_grad():
        logits = model(paddle.to_tensor(batch))[0].numpy()
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True), float(np.abs(logits).max())


def runtime_outputs(model_dir, batch):
    return {runtime: Predictor(str(model_dir), runtime=runtime).run_network(batch) for runtime in RUNTIMES}


def foreground(output):
    """The foreground probability [1, H, W] of a softmax [1, 2, H, W] or foreground [1, 1, H, W] output."""
    return output[:, -1]


def assert_pairwise_agreement(outputs, channels, tolerance=1e-4):
    for (name_a, a), (name_b, b) in itertools.combinations(outputs.items(), 2):
        assert a.shape == b.shape == (1, channels, 224, 398), (name_a, name_b)
        assert np.abs(a - b).max() <= tolerance, (name_a, name_b, np.abs(a - b).max())
        agreement = np.mean((foreground(a) > 0.5) == (foreground(b) > 0.5))
        assert agreement >= 0.9999, (name_a, name_b, agreement)


@pytest.fixture(scope="module")
def batch(connectnet_exports, portrait_frame):
    return Predictor(str(connectnet_exports["softmax"]), runtime="onnx").preprocess(portrait_frame[0])


@pytest.mark.parametrize("export", ["softmax", "foreground"])
def test_runtimes_agree_with_dygraph(connectnet_exports, batch, export):
    outputs = runtime_outputs(connectnet_exports[export], batch)
    probabilities, _ = dygraph_softmax(connectnet_exports["weights"], batch)
    outputs["dygraph"] = probabilities if export == "softmax" else probabilities[:, 1:]
    for name, output in outputs.items():
        assert output.dtype == np.float32, name
    assert_pairwise_agreement(outputs, channels=2 if export == "softmax" else 1)


@pytest.mark.parametrize("export", ["large", "large_foreground"])
def test_large_logits_give_no_nan(connectnet_exports, batch, export):
    outputs = runtime_outputs(connectnet_exports[export], batch)
    probabilities, largest_logit = dygraph_softmax(connectnet_exports["large_weights"], batch)
    outputs["dygraph"] = probabilities if export == "large" else probabilities[:, 1:]
    assert largest_logit > 1000
    for name, output in outputs.items():
        assert np.isfinite(output).all(), name
        assert output.min() >= 0.0 and output.max() <= 1.0, name
    # float32 logits near 1500 carry rounding of a few units in the last place (~1e-4 of a logit),
    # which a softmax (or sigmoid of the difference) passes on, times 1/4, where the two logits
    # nearly tie: allow 8 such units on top of the 1e-4 (measured: up to ~1.5e-4 at 1500, 3-5e-6
    # at ordinary logits).
    float32_allowance = 0.25 * 8 * np.finfo(np.float32).eps * largest_logit
    assert_pairwise_agreement(outputs, channels=2 if export == "large" else 1,
                              tolerance=1e-4 + float32_allowance)
    # Real probabilities, mostly decisive at this logit scale (exact ties stay 0.5).
    for name, output in outputs.items():
        if export == "large":
            assert np.allclose(output.sum(axis=1), 1.0, atol=1e-5), name
        assert np.mean((output < 1e-3) | (output > 1 - 1e-3)) > 0.5, name


def test_argmax_and_foreground_exports_agree_with_softmax_export(connectnet_exports, batch, portrait_frame):
    softmax_outputs = runtime_outputs(connectnet_exports["softmax"], batch)
    argmax_outputs = runtime_outputs(connectnet_exports["argmax"], batch)
    foreground_outputs = runtime_outputs(connectnet_exports["foreground"], batch)
    for runtime in RUNTIMES:
        labels = argmax_outputs[runtime]
        assert labels.shape == (1, 224, 398) and np.issubdtype(labels.dtype, np.integer), runtime
        assert np.mean(labels == softmax_outputs[runtime].argmax(axis=1)) >= 0.9999, runtime
        probability = foreground_outputs[runtime]
        assert probability.shape == (1, 1, 224, 398) and probability.dtype == np.float32, runtime
        assert np.abs(probability[:, 0] - softmax_outputs[runtime][:, 1]).max() <= 1e-4, runtime
        assert np.mean((probability[:, 0] > 0.5) == (labels == 1)) >= 0.9999, runtime
    # Through Predictor, which reads each export's output_op from deploy.yaml.
    image = portrait_frame[0]
    maps = {name: Predictor(str(connectnet_exports[name])).predict(image)
            for name in ("argmax", "softmax", "foreground")}
    assert maps["argmax"].shape == maps["softmax"].shape == maps["foreground"].shape == image.shape[:2]
    assert np.abs(maps["foreground"] - maps["softmax"]).max() <= 1e-4
    assert np.unique(maps["foreground"]).size > 2  # soft probabilities, not read as class ids
    assert np.mean((maps["argmax"] > 0.5) == (maps["softmax"] > 0.5)) > 0.99
