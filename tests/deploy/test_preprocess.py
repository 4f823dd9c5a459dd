"""Pre-processing and deploy.yaml checks, without any runtime."""
import numpy as np
import pytest

from pphumanseg_deploy import DeployError, foreground_probability
from pphumanseg_deploy.deploy_config import DeployConfig
from pphumanseg_deploy.preprocess import Preprocess

NORMALIZE = {"type": "Normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}


def test_resize_normalize_and_channel_order():
    image = np.zeros((90, 160, 3), np.uint8)
    image[..., 0] = 255  # pure blue in BGR
    batch = Preprocess([{"type": "Resize", "target_size": [80, 45]}, NORMALIZE])(image)
    assert batch.shape == (1, 3, 45, 80) and batch.dtype == np.float32
    np.testing.assert_allclose(batch[0, :, 0, 0], [-1.0, -1.0, 1.0])  # RGB order, (x/255-0.5)/0.5


@pytest.mark.parametrize("transform, size", [
    ({"type": "ResizeByShort", "short_size": 72}, (128, 72)),
    ({"type": "ResizeByLong", "long_size": 80}, (80, 45)),
    ({"type": "Resize", "target_size": [100, 100], "keep_ratio": True, "size_divisor": 32}, (128, 64)),
])
def test_resize_variants(transform, size):
    assert Preprocess([transform]).input_size(160, 90) == size


def test_fixed_input_shape_wins():
    batch = Preprocess([NORMALIZE], fixed_size=(64, 32))(np.zeros((90, 160, 3), np.uint8))
    assert batch.shape == (1, 3, 32, 64)


@pytest.mark.parametrize("transform, message", [
    ({"type": "Padding", "target_size": [512, 512]}, r"Deploy.transforms\[1\] \(Padding\): transform not supported"),
    ({"type": "Normalize", "std": [0, 1, 1]}, r"Deploy.transforms\[1\] \(Normalize\): std must not contain 0"),
    ({"type": "Resize", "target_size": 512}, r"Deploy.transforms\[1\] \(Resize\): target_size must be"),
])
def test_bad_transforms_are_named(transform, message):
    with pytest.raises(DeployError, match=message):
        Preprocess([NORMALIZE, transform], source="deploy.yaml")


def test_deploy_yaml_fields(tmp_path):
    (tmp_path / "deploy.yaml").write_text(
        "Deploy:\n  model: model.pdmodel\n  params: model.pdiparams\n  transforms: []\n  output_op: sigmoid\n")
    with pytest.raises(DeployError, match=r"'Deploy.output_op' is 'sigmoid'"):
        DeployConfig(str(tmp_path))
    (tmp_path / "deploy.yaml").write_text(
        "Deploy:\n  model: model.pdmodel\n  params: model.pdiparams\n  transforms: []\n"
        "  input_shape: [-1, 3, 224, 398]\n")
    config = DeployConfig(str(tmp_path))
    assert config.fixed_input_size == (398, 224) and config.output_op is None


def test_output_kinds():
    logits = np.array([[[[1000.0, -3.0]], [[-1000.0, 3.0]]]], np.float32)  # [1, 2, 1, 2]
    from_logits = foreground_probability(logits, "none")
    np.testing.assert_allclose(from_logits, [[0.0, 1 / (1 + np.exp(-6))]], atol=1e-6)
    assert np.isfinite(from_logits).all()
    probabilities = np.array([[[[0.9, 0.2]], [[0.1, 0.8]]]], np.float32)
    np.testing.assert_allclose(foreground_probability(probabilities), [[0.1, 0.8]])  # recognised as softmax
    np.testing.assert_allclose(foreground_probability(logits), from_logits, atol=1e-6)  # recognised as logits
    labels = np.array([[[0, 1]]], np.int32)
    np.testing.assert_array_equal(foreground_probability(labels, "argmax"), [[0.0, 1.0]])
    np.testing.assert_array_equal(foreground_probability(labels[:, None].astype(np.int64)), [[0.0, 1.0]])


def test_one_channel_probability_is_never_read_as_class_ids():
    """paddleseg #664: 1- and 2-channel outputs were confused. A foreground export's [1, 1, H, W]
    float probability stays a probability; argmax exports (int32 labels) still give 0/1 maps."""
    probability = np.array([[[[0.25, 0.75, 1.0]]]], np.float32)
    np.testing.assert_array_equal(foreground_probability(probability, "foreground"), [[0.25, 0.75, 1.0]])
    np.testing.assert_array_equal(foreground_probability(probability), [[0.25, 0.75, 1.0]])  # no output_op
    labels = np.array([[[0, 1, 2]]], np.int32)
    np.testing.assert_array_equal(foreground_probability(labels, "argmax"), [[0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(foreground_probability(labels[:, None]), [[0.0, 1.0, 0.0]])
    # Whole numbers in a float map without output_op are class ids (class 2 is not foreground).
    np.testing.assert_array_equal(foreground_probability(labels[:, None].astype(np.float32)), [[0.0, 1.0, 0.0]])
    with pytest.raises(DeployError, match="output_op foreground: expected a float"):
        foreground_probability(labels[:, None], "foreground")
    with pytest.raises(DeployError, match="output_op foreground: expected a float"):
        foreground_probability(np.zeros((1, 2, 1, 3), np.float32), "foreground")
    with pytest.raises(DeployError, match=r"is not scores \[1, C>=2, H, W\] \(output_op softmax\)"):
        foreground_probability(probability, "softmax")
    with pytest.raises(DeployError, match="neither class ids nor probabilities"):
        foreground_probability(probability * 3.0)
