"""Every config under configs/ parses with paddleseg's Config and builds a model that runs."""
import re
from pathlib import Path

import paddle
import pytest
from paddleseg.cvlibs import Config, SegBuilder

import pphumanseg  # noqa: F401  (registers the components)

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
CONFIGS = sorted(p for p in CONFIG_DIR.rglob("*.yml") if "_base_" not in p.parts)
SCL_CONFIGS = [p for p in CONFIGS if p.stem.endswith("_scl")]
# Fine-tuning recipes start from a released model (model.pretrained: zoo:NAME); no other config
# downloads anything.
FINETUNE_CONFIGS = [p for p in CONFIGS if "_finetune" in p.stem]
# Keys that paddleseg's trainer (or pphumanseg's) reads; anything else would be a dead setting.
TOP_LEVEL_KEYS = {"batch_size", "iters", "train_dataset", "val_dataset", "optimizer",
                  "lr_scheduler", "loss", "model"}


def ids(paths):
    return [p.relative_to(CONFIG_DIR).as_posix() for p in paths]


def load(path):
    return Config(str(path))


def find_key(tree, key):
    if isinstance(tree, dict):
        return key in tree or any(find_key(v, key) for v in tree.values())
    if isinstance(tree, list):
        return any(find_key(v, key) for v in tree)
    return False


def test_the_agreed_configs_exist():
    names = set(ids(CONFIGS))
    for name in ("connectnet/connectnet_portrait_398x224.yml",
                 "connectnet/connectnet_portrait_398x224_scl.yml",
                 "connectnet/connectnet_portrait_256x144.yml",
                 "connectnet/connectnet_portrait_256x144_scl.yml",
                 "connectnet/connectnet_general_192x192.yml",
                 "connectnet/connectnet_general_192x192_scl.yml",
                 "pp_humanseg_v2/pp_humanseg_v2_lite_portrait_256x144.yml",
                 "pp_humanseg_v2/pp_humanseg_v2_mobile_192x192.yml",
                 "pp_humanseg_v1/pp_humanseg_v1_mobile_192x192.yml",
                 "pp_humanseg_v1/pp_humanseg_v1_server_512x512.yml"):
        assert name in names


@pytest.mark.parametrize("path", CONFIGS, ids=ids(CONFIGS))
def test_model_builds_and_runs(path):
    config = load(path)
    model_cfg = {key: value for key, value in config.model_cfg.items() if key != "pretrained"}
    model = SegBuilder(config).build_component(model_cfg)
    x = paddle.rand([1, 3, 64, 96])
    model.eval()
    with paddle.no_grad():
        logits = model(x)
    assert logits[0].shape == [1, 2, 64, 96]
    # training returns one logit per loss coefficient (auxiliary heads included)
    model.train()
    with paddle.no_grad():
        assert len(model(x)) == len(config.loss_cfg["coef"])


@pytest.mark.parametrize("path", CONFIGS, ids=ids(CONFIGS))
def test_dataset_and_export_transforms(path):
    config = load(path)
    width, height = map(int, re.search(r"(\d+)x(\d+)", path.stem).groups())
    for section in (config.train_dataset_cfg, config.val_dataset_cfg):
        assert section["type"] == "VideoPortraitDataset"
        assert section["dataset_root"] == "data/pp_humanseg14k"
    assert config.train_dataset_cfg["mode"] == "train" and config.val_dataset_cfg["mode"] == "val"
    resize, normalize = config.val_dataset_cfg["transforms"]
    assert resize == {"type": "Resize", "target_size": [width, height]}
    assert normalize["type"] == "Normalize"
    crops = [t for t in config.train_dataset_cfg["transforms"] if t["type"] == "RandomPaddingCrop"]
    assert crops[0]["crop_size"] == [width, height]


@pytest.mark.parametrize("path", CONFIGS, ids=ids(CONFIGS))
def test_no_dead_keys_and_nothing_downloads(path):
    config = load(path)
    assert set(config.dic) <= TOP_LEVEL_KEYS
    model = {key: value for key, value in config.dic["model"].items()
             if path not in FINETUNE_CONFIGS or key != "pretrained"}
    assert not find_key({**config.dic, "model": model}, "pretrained")


@pytest.mark.parametrize("path", FINETUNE_CONFIGS, ids=ids(FINETUNE_CONFIGS))
def test_finetuning_starts_from_the_released_model_of_its_network(path):
    from pphumanseg.zoo.catalog import RELEASED_MODELS

    model = dict(load(path).model_cfg)
    name = model.pop("pretrained").removeprefix("zoo:")
    assert name in RELEASED_MODELS
    released = load(CONFIG_DIR / RELEASED_MODELS[name].config).model_cfg
    assert model == released and "pretrained" not in released


@pytest.mark.parametrize("path", SCL_CONFIGS, ids=ids(SCL_CONFIGS))
def test_scl_variant_differs_from_its_ce_config_only_in_the_loss(path):
    scl, ce = load(path).dic, load(path.with_name(path.stem[:-len("_scl")] + ".yml")).dic
    assert {k: v for k, v in scl.items() if k != "loss"} == {k: v for k, v in ce.items() if k != "loss"}
    assert ce["loss"]["types"] == [{"type": "CrossEntropyLoss"}]
    (mixed,) = scl["loss"]["types"]
    assert [t["type"] for t in mixed["losses"]] == ["CrossEntropyLoss", "SCLoss"]
    assert mixed["coef"] == [1, 0.1]


@pytest.mark.parametrize("path", CONFIGS, ids=ids(CONFIGS))
def test_losses_build_and_the_dataset_class_agrees(path):
    config = load(path)
    builder = SegBuilder(config)
    losses = builder.loss
    assert len(losses["types"]) == len(losses["coef"])
    assert builder.train_dataset_class.NUM_CLASSES == config.model_cfg["num_classes"]
    assert builder.train_dataset_class.IMG_CHANNELS == 3
