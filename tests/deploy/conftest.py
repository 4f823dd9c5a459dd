"""Model directories shared by the deploy tests, each exported once per session.

- ``connectnet_exports``: ConnectNet with PaddleSeg's released PP-HumanSegV1-Lite weights (the
  release checkpoint passed to ``pphumanseg export --model_path`` as it is), exported with ONNX and
  Paddle Lite: softmax, argmax, foreground and none; and seeded random weights scaled so logits
  pass 1000, as softmax and foreground. Exports run side by side in subprocesses.
- ``paddleseg_exports``: paddleseg's PPHumanSegLite exported the way PaddleSeg's tools do
  (see paddleseg_style_export.py): argmax and none as written by paddleseg on Paddle 3 (model.json),
  softmax in the legacy model.pdmodel of the official inference models.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "configs/connectnet/connectnet_portrait_398x224.yml"
INPUT_SHAPE = ["1", "3", "224", "398"]
# Largest logit of the scaled model on the test frame: past 1000, where a plain softmax overflows
# float32 (exp(88) is its limit); not much further, since float32 logits of that size already
# differ between runtimes by ~1e-4 of a logit.
LARGE_LOGITS = 1500.0
# The val transforms of CONFIG, used only to aim the scaling (the tests assert the result).
CONFIG_TRANSFORMS = [{"type": "Resize", "target_size": [398, 224]}, {"type": "Normalize"}]


def _env():
    return dict(os.environ, PYTHONWARNINGS="ignore")


def _wait_all(processes):
    for name, process in processes.items():
        _, stderr = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"{name} failed ({process.returncode}):\n{stderr.decode()[-3000:]}")


def final_affine_layer(model, num_classes=2):
    """The last layer with a per-class weight and bias (the classifier's conv or its batch norm):
    scaling both scales the logits, since only ReLU and bilinear upsampling follow."""
    candidates = [layer for layer in model.sublayers()
                  if getattr(layer, "weight", None) is not None and getattr(layer, "bias", None) is not None
                  and layer.weight.shape[0] == num_classes]
    return candidates[-1]


def write_large_weights(folder, frame):
    """Seeded ConnectNet weights with logits scaled to LARGE_LOGITS on ``frame``."""
    import paddle

    from pphumanseg.models import ConnectNet
    from pphumanseg_deploy.preprocess import Preprocess

    paddle.seed(0)
    model = ConnectNet(num_classes=2)
    model.eval()
    probe = paddle.to_tensor(Preprocess(CONFIG_TRANSFORMS)(frame))
    scale = LARGE_LOGITS / float(paddle.abs(model(probe)[0]).max())
    layer = final_affine_layer(model)
    layer.weight.set_value(layer.weight * scale)
    layer.bias.set_value(layer.bias * scale)
    large = folder / "large.pdparams"
    paddle.save(model.state_dict(), str(large))
    return large


@pytest.fixture(scope="session")
def connectnet_exports(tmp_path_factory, portrait_frame, released_weights):
    """The released weights, given to ``pphumanseg export`` as the release checkpoint itself,
    and seeded weights scaled to large logits."""
    root = tmp_path_factory.mktemp("connectnet")
    large = write_large_weights(root, portrait_frame[0])
    jobs = {"softmax": (released_weights, "softmax"), "large": (large, "softmax"),
            "argmax": (released_weights, "argmax"), "foreground": (released_weights, "foreground"),
            "none": (released_weights, "none"), "large_foreground": (large, "foreground")}
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-m", "pphumanseg", "export", "--config", str(CONFIG), "--model_path", str(weights),
             "--save_dir", str(root / name), "--output_op", output_op, "--input_shape", *INPUT_SHAPE,
             "--formats", "paddle,onnx,lite"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
        for name, (weights, output_op) in jobs.items()}
    _wait_all(processes)
    exports = {name: root / name for name in jobs}
    exports["weights"], exports["large_weights"] = released_weights, large
    return exports


@pytest.fixture(scope="session")
def paddleseg_exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("paddleseg")
    script = str(Path(__file__).with_name("paddleseg_style_export.py"))
    processes = {
        "pir export": subprocess.Popen([sys.executable, script, str(root), "argmax", "none"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env()),
        "legacy export": subprocess.Popen([sys.executable, script, str(root), "softmax"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                          env=dict(_env(), PPHUMANSEG_TEST_LEGACY="1")),
    }
    _wait_all(processes)
    return {op: root / op for op in ("argmax", "softmax", "none")}


@pytest.fixture(scope="session")
def portrait_frame():
    """A generated teleconference frame (640x360, BGR) and its person mask."""
    from pphumanseg.synth import render_clip

    return next(iter(render_clip(size=(640, 360), frames=1, seed=7)))
