"""The TIPC driver's config reader (test_tipc/tipc.py): keys by name, per-mode values, loud errors."""
import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("tipc", REPO / "test_tipc" / "tipc.py")
tipc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tipc)

SHIPPED = sorted((REPO / "test_tipc" / "configs").glob("*/train_infer_python.txt"))
CONNECTNET = REPO / "test_tipc" / "configs" / "connectnet" / "train_infer_python.txt"


def write_variant(tmp_path, edit):
    """A copy of the ConnectNet config with ``edit(lines) -> lines`` applied."""
    lines = CONNECTNET.read_text().splitlines()
    path = tmp_path / "train_infer_python.txt"
    path.write_text("\n".join(edit(lines)) + "\n")
    return path


def test_both_required_models_are_shipped():
    assert {path.parent.name for path in SHIPPED} >= {"connectnet", "pp_humanseg_v2_lite"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.parent.name)
@pytest.mark.parametrize("mode", tipc.MODES)
def test_shipped_configs_parse_in_every_mode(path, mode):
    config = tipc.TipcConfig(path, mode)
    chain = tipc.Chain(config)  # resolves every typed value
    assert (REPO / config.get("train_params", "config")).is_file()
    assert chain.reference in chain.runtimes
    assert set(chain.runtimes) == {"paddle", "onnx", "lite"}


def test_per_mode_values_resolve_to_the_mode():
    lite = tipc.TipcConfig(CONNECTNET, "lite_train_lite_infer")
    whole = tipc.TipcConfig(CONNECTNET, "whole_train_whole_infer")
    assert lite.get_int("train_params", "--iters") < whole.get_int("train_params", "--iters")
    assert lite.get_int("data_params", "infer_img_num", allow_all=True) > 0
    assert whole.get_int("data_params", "infer_img_num", allow_all=True) is None
    assert lite.flags("export_params") == ["--output_op", "foreground", "--input_shape", "1", "3",
                                           "224", "398", "--formats", "paddle,onnx,lite"]
    assert "--bg" not in lite.flags("infer_params")  # null leaves the flag out


@pytest.mark.parametrize("key", [key for keys in tipc.SCHEMA.values() for key in keys])
def test_missing_key_fails_loudly_naming_it(tmp_path, key):
    path = write_variant(tmp_path, lambda lines: [line for line in lines
                                                  if line.partition(":")[0] != key])
    with pytest.raises(tipc.TipcConfigError, match=f"missing key '{key}'"):
        tipc.TipcConfig(path, "lite_train_lite_infer")


def test_unknown_key_names_file_and_line(tmp_path):
    path = write_variant(tmp_path, lambda lines: lines[:12] + ["--iter:4"] + lines[12:])
    with pytest.raises(tipc.TipcConfigError, match=r"train_infer_python.txt:13: unknown key '--iter'"):
        tipc.TipcConfig(path, "lite_train_lite_infer")


def test_repeated_key_and_line_without_colon_fail(tmp_path):
    repeated = write_variant(tmp_path, lambda lines: lines + ["compare_reference:onnx"])
    with pytest.raises(tipc.TipcConfigError, match="repeated"):
        tipc.TipcConfig(repeated, "lite_train_lite_infer")
    no_colon = write_variant(tmp_path, lambda lines: lines + ["just words"])
    with pytest.raises(tipc.TipcConfigError, match="expected 'key:value'"):
        tipc.TipcConfig(no_colon, "lite_train_lite_infer")


def test_value_without_the_requested_mode_fails(tmp_path):
    path = write_variant(tmp_path, lambda lines: [
        "--iters:lite_train_lite_infer=4" if line.startswith("--iters:") else line for line in lines])
    tipc.TipcConfig(path, "lite_train_lite_infer")
    with pytest.raises(tipc.TipcConfigError, match="'--iters' has no value for mode whole_train_whole_infer"):
        tipc.TipcConfig(path, "whole_train_whole_infer")


def test_bad_typed_values_fail_before_any_step(tmp_path):
    bad_runtime = write_variant(tmp_path, lambda lines: [
        "--runtime:paddle|tensorrt" if line.startswith("--runtime:") else line for line in lines])
    with pytest.raises(tipc.TipcConfigError, match="tensorrt"):
        tipc.Chain(tipc.TipcConfig(bad_runtime, "lite_train_lite_infer"))
    bad_iters = write_variant(tmp_path, lambda lines: [
        "--iters:four" if line.startswith("--iters:") else line for line in lines])
    with pytest.raises(tipc.TipcConfigError, match="'--iters' must be an integer"):
        tipc.Chain(tipc.TipcConfig(bad_iters, "lite_train_lite_infer"))


def test_unknown_mode_and_missing_data_are_usage_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # main() moves to the repository root; restored afterwards
    with pytest.raises(tipc.TipcConfigError, match="mode 'full'"):
        tipc.TipcConfig(CONNECTNET, "full")
    path = write_variant(tmp_path, lambda lines: [
        "model_name:never_prepared" if line.startswith("model_name:") else line for line in lines])
    assert tipc.main(["chain", str(path), "lite_train_lite_infer"]) == 2
    assert "run 'bash test_tipc/prepare.sh" in capsys.readouterr().err
