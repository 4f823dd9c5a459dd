import json
import os

import cv2
import numpy as np
import paddle
import pytest
import yaml

from in_process import run_cli
from pphumanseg.core.config import ComponentBuilder, load_config
from pphumanseg.core.export_head import ExportHead
from pphumanseg.models import ConnectNet
from pphumanseg.utils.errors import UsageError


def test_val_reports_iou_sc_and_temporal_stability_and_saves_json(config, trained, tmp_path, capsys):
    out = tmp_path / "metrics.json"
    assert run_cli("val", "--config", config, "--model_path", trained, "--save_json", out) == 0
    metrics = json.loads(out.read_text())
    assert set(metrics) >= {"miou", "class_iou", "acc", "kappa", "sc", "sc_per_class",
                            "temporal_stability", "flicker_rate"}
    assert len(metrics["class_iou"]) == 2 and metrics["miou"] == pytest.approx(np.mean(metrics["class_iou"]))
    assert metrics["temporal_stability"] == pytest.approx(1 - metrics["flicker_rate"])
    assert f"mIoU: {metrics['miou']:.4f}" in capsys.readouterr().out
    flipped = tmp_path / "flipped.json"
    assert run_cli("val", "--config", config, "--model_path", trained, "--aug_eval", "--flip_horizontal",
                   "--scales", 0.75, 1.0, "--save_json", flipped) == 0
    assert json.loads(flipped.read_text())["miou"] != metrics["miou"]


@pytest.mark.parametrize("mode", ["train", "test"])
def test_val_of_a_split_in_another_mode_is_a_one_line_error(config, trained, tmp_path, capsys, mode):
    out = tmp_path / "metrics.json"
    assert run_cli("val", "--config", config, "--model_path", trained, "--save_json", out,
                   "--opts", f"val_dataset.mode={mode}") == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"pphumanseg val: error: {config}: val_dataset.mode must be 'val' for evaluation (got "
        f"'{mode}'): only 'val' items keep labels at the image's own size, where predictions are compared")
    assert not out.exists()


def test_predict_writes_mask_pseudo_colour_and_overlay_for_a_folder(config, trained, videos, tmp_path):
    folder = videos / "images"
    out = tmp_path / "pred"
    assert run_cli("predict", "--config", config, "--model_path", trained, "--image_path", folder,
                   "--save_dir", out) == 0
    frames = sorted(p.relative_to(folder) for p in folder.rglob("*.jpg"))
    masks = sorted(p.relative_to(out / "mask") for p in (out / "mask").rglob("*.png"))
    assert masks == [f.with_suffix(".png") for f in frames]
    image = cv2.imread(str(folder / frames[0]))
    mask = cv2.imread(str(out / "mask" / masks[0]), cv2.IMREAD_UNCHANGED)
    assert mask.shape == image.shape[:2] and set(np.unique(mask)) <= {0, 1}
    assert (out / "pseudo_color" / masks[0]).is_file()
    assert cv2.imread(str(out / "overlay" / frames[0])).shape == image.shape
    assert not list(out.rglob(".partial.*"))
    single = tmp_path / "single"
    assert run_cli("predict", "--config", config, "--model_path", trained, "--image_path",
                   folder / frames[0], "--save_dir", single) == 0
    np.testing.assert_array_equal(cv2.imread(str(single / "mask" / masks[0].name), cv2.IMREAD_UNCHANGED), mask)


def test_predict_names_an_unreadable_image_in_one_line(config, trained, tmp_path, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "broken.jpg").write_bytes(b"not an image")
    assert run_cli("predict", "--config", config, "--model_path", trained, "--image_path", folder,
                   "--save_dir", tmp_path / "pred") == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == f"pphumanseg predict: error: {folder / 'broken.jpg'}: cannot read image"


def dygraph_logits(config, weights, image):
    model = ComponentBuilder(load_config(str(config)), str(config)).build("model")
    model.set_state_dict(weights)
    model.eval()
    return model(paddle.to_tensor(image))[0].numpy()


def run_paddle_inference(model_dir, image):
    config = paddle.inference.Config(str(model_dir / "model.pdmodel"), str(model_dir / "model.pdiparams"))
    config.disable_gpu()
    predictor = paddle.inference.create_predictor(config)
    predictor.get_input_handle(predictor.get_input_names()[0]).copy_from_cpu(image)
    predictor.run()
    return predictor.get_output_handle(predictor.get_output_names()[0]).copy_to_cpu()


def test_export_writes_the_legacy_inference_layout_that_matches_the_model(config, trained, tmp_path):
    out = tmp_path / "inference"
    assert run_cli("export", "--config", config, "--model_path", trained, "--save_dir", out,
                   "--input_shape", 1, 3, 36, 64) == 0
    assert {"deploy.yaml", "model.pdmodel", "model.pdiparams"} <= set(os.listdir(out))
    deploy = yaml.safe_load((out / "deploy.yaml").read_text())["Deploy"]
    assert deploy["model"] == "model.pdmodel" and deploy["params"] == "model.pdiparams"
    assert deploy["transforms"] == load_config(str(config)).val_dataset_cfg["transforms"]
    assert deploy["input_shape"] == [1, 3, 36, 64] and deploy["output_op"] == "softmax"
    image = np.random.RandomState(0).uniform(-1, 1, (1, 3, 36, 64)).astype("float32")
    logits = dygraph_logits(config, paddle.load(str(trained)), image)
    probabilities = run_paddle_inference(out, image)
    expected = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(probabilities, expected / expected.sum(1, keepdims=True), atol=1e-4)

    argmax_dir = tmp_path / "argmax"
    argmax_dir.mkdir()
    (argmax_dir / "model.onnx").write_text("from an earlier export")
    (argmax_dir / "notes.txt").write_text("the user's")
    assert run_cli("export", "--config", config, "--model_path", trained, "--save_dir", argmax_dir,
                   "--output_op", "argmax") == 0
    assert yaml.safe_load((argmax_dir / "deploy.yaml").read_text())["Deploy"]["input_shape"] == [-1, 3, -1, -1]
    assert not (argmax_dir / "model.onnx").exists() and (argmax_dir / "notes.txt").exists()
    classes = run_paddle_inference(argmax_dir, image)
    assert classes.dtype == np.int32 and classes.shape == (1, 36, 64)
    np.testing.assert_array_equal(classes[0], logits[0].argmax(0))


def test_export_foreground_writes_the_class_1_probability_as_one_channel(config, trained, tmp_path):
    import onnxruntime

    out = tmp_path / "foreground"
    assert run_cli("export", "--config", config, "--model_path", trained, "--save_dir", out,
                   "--output_op", "foreground", "--input_shape", 1, 3, 36, 64, "--formats", "paddle,onnx") == 0
    assert yaml.safe_load((out / "deploy.yaml").read_text())["Deploy"]["output_op"] == "foreground"
    image = np.random.RandomState(2).uniform(-1, 1, (1, 3, 36, 64)).astype("float32")
    logits = dygraph_logits(config, paddle.load(str(trained)), image)
    expected = 1.0 / (1.0 + np.exp(logits[:, 0:1] - logits[:, 1:2]))
    probability = run_paddle_inference(out, image)
    assert probability.dtype == np.float32 and probability.shape == (1, 1, 36, 64)
    np.testing.assert_allclose(probability, expected, atol=1e-4)
    session = onnxruntime.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {session.get_inputs()[0].name: image})[0], expected, atol=1e-4)

    with pytest.raises(UsageError, match="^output_op foreground: needs a two-class model "
                                         r"\(background, foreground\); ConnectNet has num_classes=3"):
        ExportHead(ConnectNet(num_classes=3), "foreground")


def test_export_of_a_three_class_model_as_foreground_names_the_flag(config, tmp_path, capsys):
    # The check runs in export's jit.save subprocess; the command line still names the flag.
    opts = [f"{section}.{key}" for section in ("train_dataset", "val_dataset")
            for key in ("type=Dataset", "num_classes=3")] + ["model.num_classes=3"]
    weights = tmp_path / "three_classes.pdparams"
    paddle.save(ComponentBuilder(load_config(str(config), opts), str(config)).build("model").state_dict(),
                str(weights))
    assert run_cli("export", "--config", config, "--model_path", weights, "--save_dir", tmp_path / "out",
                   "--output_op", "foreground", "--opts", *opts) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "pphumanseg export: error: --output_op foreground: needs a two-class model (background, "
        "foreground); ConnectNet has num_classes=3")
    assert not (tmp_path / "out").exists()


def test_exported_softmax_stays_finite_in_paddle_lite_at_huge_logits(config, trained, tmp_path):
    from paddlelite.lite import MobileConfig, create_paddle_predictor

    weights = paddle.load(str(trained))
    # Scale the affine weights of the last normalisation layer: the logits grow by 1000x.
    classifier = [key for key, value in weights.items()
                  if value.shape[:1] == [2] and not key.endswith(("_mean", "_variance"))][-2:]
    for key in classifier:
        weights[key] = weights[key] * 1000.0
    scaled = tmp_path / "scaled.pdparams"
    paddle.save(weights, str(scaled))
    image = np.random.RandomState(1).uniform(-1, 1, (1, 3, 36, 64)).astype("float32")
    logits = dygraph_logits(config, weights, image)
    assert np.abs(logits).max() > 200  # exp() of these overflows float32 without the max shift
    out = tmp_path / "lite"
    assert run_cli("export", "--config", config, "--model_path", scaled, "--save_dir", out,
                   "--input_shape", 1, 3, 36, 64, "--formats", "paddle,lite") == 0
    lite_config = MobileConfig()
    lite_config.set_model_from_file(str(out / "model_x86.nb"))
    predictor = create_paddle_predictor(lite_config)
    predictor.get_input(0).from_numpy(image)
    predictor.run()
    probabilities = predictor.get_output(0).numpy()
    assert np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-4)
    agree = np.mean(probabilities[0].argmax(0) == logits[0].argmax(0))
    assert agree > 0.99


def test_export_refuses_a_checkpoint_of_another_model_and_leaves_nothing(config, trained, tmp_path, capsys):
    out = tmp_path / "inference"
    assert run_cli("export", "--config", config, "--model_path", trained, "--save_dir", out,
                   "--opts", "model.type=PPHumanSegLite") == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"pphumanseg export: error: {trained}: does not match PPHumanSegLite")
    assert not out.exists() and os.listdir(tmp_path) == []
