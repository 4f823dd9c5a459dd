"""PaddleSeg's released PP-HumanSegV1-Lite checkpoint through every command: ``--model_path`` as
a file, a checkpoint directory or ``zoo:NAME``, and ``model.pretrained`` in a config (export and
val then need no ``--model_path``); its mIoU on generated frames is recorded against a model
with initial weights, so a loading or evaluation regression shows up as a number."""
import json

import numpy as np
import paddle
import pytest
import yaml

from in_process import run_cli
from pphumanseg.core.config import ComponentBuilder, load_config
from pphumanseg.models import ConnectNet, load_weights
from pphumanseg.synth import write_dataset
from tiny_dataset import REPO

RELEASE = "pp_humanseg_v1_lite_portrait_398x224"
ZOO_NAME = f"zoo:{RELEASE}"


@pytest.fixture(scope="module")
def portrait_data(tmp_path_factory):
    """Generated calls at the released model's 398x224: 2 validation videos of 6 frames."""
    root = tmp_path_factory.mktemp("portrait_data")
    write_dataset(str(root), videos=4, frames=6, size=(398, 224), seed=0, split=(0.25, 0.5, 0.25))
    return root


def write_config(path, data_root, **model):
    config = {"_base_": str(REPO / "configs/connectnet/connectnet_portrait_398x224.yml"),
              "train_dataset": {"dataset_root": str(data_root)},
              "val_dataset": {"dataset_root": str(data_root)}}
    if model:
        config["model"] = model
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def zoo_home(tmp_path, monkeypatch, released_weights):
    monkeypatch.setenv("PPHUMANSEG_HOME", str(tmp_path / "cache"))
    assert run_cli("zoo", "get", RELEASE, "--from", released_weights) == 0


def val_metrics(config, tmp_path, *model_path):
    out = tmp_path / f"metrics{len(list(tmp_path.glob('metrics*')))}.json"
    assert run_cli("val", "--config", config, *model_path, "--save_json", out) == 0
    metrics = json.loads(out.read_text())
    del metrics["seconds"]  # the only entry that is not a function of model and data
    return metrics


def test_val_of_the_release_checkpoint_is_far_above_initial_weights(portrait_data, tmp_path,
                                                                     released_weights, capsys):
    config = write_config(tmp_path / "config.yml", portrait_data)
    released = val_metrics(config, tmp_path, "--model_path", released_weights)
    paddle.seed(0)
    paddle.save(ConnectNet().state_dict(), str(tmp_path / "initial.pdparams"))
    initial = val_metrics(config, tmp_path, "--model_path", tmp_path / "initial.pdparams")
    print(f"released mIoU {released['miou']:.4f} (person IoU {released['class_iou'][1]:.4f}), "
          f"initial weights {initial['miou']:.4f}")
    assert released["miou"] >= 0.75 and released["class_iou"][1] >= 0.6
    assert released["miou"] - initial["miou"] >= 0.4


def test_zoo_name_directory_and_model_pretrained_give_the_same_model(portrait_data, tmp_path,
                                                                    released_weights, zoo_home):
    config = write_config(tmp_path / "config.yml", portrait_data)
    expected = val_metrics(config, tmp_path, "--model_path", released_weights)
    assert val_metrics(config, tmp_path, "--model_path", ZOO_NAME) == expected
    directory = tmp_path / "best_model"
    directory.mkdir()
    (directory / "model.pdparams").write_bytes(released_weights.read_bytes())
    assert val_metrics(config, tmp_path, "--model_path", directory) == expected
    pretrained = write_config(tmp_path / "pretrained.yml", portrait_data, pretrained=ZOO_NAME)
    assert val_metrics(pretrained, tmp_path) == expected


def test_export_runs_from_model_pretrained_alone(portrait_data, tmp_path, released_weights,
                                                 zoo_home):
    config = write_config(tmp_path / "pretrained.yml", portrait_data, pretrained=ZOO_NAME)
    assert run_cli("export", "--config", config, "--save_dir", tmp_path / "export",
                   "--input_shape", 1, 3, 224, 398) == 0
    assert (tmp_path / "export" / "model.pdmodel").is_file()


def test_training_starts_from_model_pretrained(portrait_data, tmp_path, released_weights,
                                               zoo_home):
    config = write_config(tmp_path / "pretrained.yml", portrait_data, pretrained=ZOO_NAME)
    model = ComponentBuilder(load_config(str(config)), str(config)).build("model")
    expected = load_weights(ConnectNet(), str(released_weights)).state_dict()
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), expected[key].numpy())


@pytest.mark.parametrize("case,message", [
    ("no_weights", "no weights: give model_path or set model.pretrained"),
    ("other_model", "does not match MobileSeg: parameters 426 missing"),
    ("missing_zoo_file", "weights file not found"),
])
def test_wrong_weights_are_one_line_errors(case, message, portrait_data, tmp_path, repo_root,
                                           released_weights, capsys):
    config = write_config(tmp_path / "config.yml", portrait_data)
    args = ["--model_path", released_weights]
    if case == "no_weights":
        args = []
    elif case == "other_model":
        config = repo_root / "configs/pp_humanseg_v2/pp_humanseg_v2_lite_portrait_256x144.yml"
    else:
        args = ["--model_path", tmp_path / "absent.pdparams"]
    assert run_cli("export", "--config", config, "--save_dir", tmp_path / "export", *args) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("pphumanseg export: error: ") and message in error, error
    assert not (tmp_path / "export").exists()

