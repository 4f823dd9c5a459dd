"""pphumanseg.core.convert: model.onnx and both .nb files beside deploy.yaml, every op supported
by Paddle Lite for ARM and x86, each .nb built for its own target, clear errors otherwise."""
import shutil
import subprocess
import sys

import numpy as np

import pytest

from pphumanseg.core.convert import ConversionError, convert, lite_unsupported_ops
from pphumanseg_deploy import DeployError, Predictor
from pphumanseg_deploy.lite_backend import nb_targets


def test_export_writes_onnx_and_lite_models(connectnet_exports):
    folder = connectnet_exports["softmax"]
    for name in ("deploy.yaml", "model.pdmodel", "model.pdiparams", "model.onnx", "model_arm.nb", "model_x86.nb"):
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
    assert not list(folder.glob(".partial*"))
    assert nb_targets(str(folder / "model_arm.nb")) == {"arm"}
    assert nb_targets(str(folder / "model_x86.nb")) == {"x86"}


@pytest.mark.parametrize("target", ["arm", "x86"])
def test_every_op_is_supported_by_paddle_lite(connectnet_exports, target):
    assert lite_unsupported_ops(str(connectnet_exports["softmax"]), target) == []


def test_pir_only_directory_is_refused_with_a_hint(paddleseg_exports, tmp_path):
    folder = tmp_path / "pir"
    shutil.copytree(paddleseg_exports["none"], folder)
    with pytest.raises(ConversionError, match="model.pdmodel: not found .*FLAGS_enable_pir_api=0"):
        convert(str(folder), ["lite"])
    with pytest.raises(ConversionError, match="unknown format 'tflite'"):
        convert(str(paddleseg_exports["softmax"]), ["tflite"])


def test_arm_model_is_refused_on_x86(connectnet_exports, tmp_path):
    folder = tmp_path / "arm_only"
    folder.mkdir()
    for name in ("deploy.yaml", "model_arm.nb"):
        shutil.copy(connectnet_exports["softmax"] / name, folder / name)
    with pytest.raises(DeployError, match="model_x86.nb: not found; model_arm.nb is for another CPU"):
        Predictor(str(folder), runtime="lite")
    # An ARM model under the x86 name would crash Paddle Lite; it is caught before loading.
    shutil.copy(folder / "model_arm.nb", folder / "model_x86.nb")
    with pytest.raises(DeployError, match="optimised for arm, cannot run on this x86 CPU"):
        Predictor(str(folder), runtime="lite")


def test_onnx_conversion_installs_nothing(paddleseg_exports, tmp_path, monkeypatch):
    """paddle2onnx's polygraphy optimiser pip-installs missing packages; it is never reached."""
    folder = tmp_path / "legacy"
    shutil.copytree(paddleseg_exports["softmax"], folder)
    calls = []
    monkeypatch.setattr(subprocess, "check_call", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    written = convert(str(folder), ["onnx"])
    assert written == {"onnx": [str(folder / "model.onnx")]}
    assert calls == [] and "polygraphy" not in sys.modules
    probability = Predictor(str(folder), runtime="onnx").predict_low_res(np.zeros((224, 398, 3), np.uint8))
    assert probability.shape == (224, 398)


def test_onnx_is_converted_from_the_channel_aligned_graph(connectnet_exports):
    """model.onnx has ConnectNet's stem padded from 36 to 48 channels (ONNX Runtime's NCHWc
    blocks); the temporary graph it was converted from is not left in the export."""
    import onnx

    model = onnx.load(str(connectnet_exports["foreground"] / "model.onnx"))
    constants = {node.output[0]: list(node.attribute[0].t.dims) for node in model.graph.node
                 if node.op_type == "Constant"}
    constants.update({tensor.name: list(tensor.dims) for tensor in model.graph.initializer})
    input_name = model.graph.input[0].name
    stem = next(node for node in model.graph.node if node.op_type == "Conv" and node.input[0] == input_name)
    assert constants[stem.input[1]] == [48, 3, 3, 3]
    assert not (connectnet_exports["foreground"] / ".onnx_graph").exists()
