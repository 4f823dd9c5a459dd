import pytest
import yaml

from pphumanseg.core.config import ComponentBuilder, check_dataset_root, load_config
from pphumanseg.utils.errors import UsageError
from tiny_dataset import SCL_CONFIG, write_config


def write(path, text):
    path.write_text(text)
    return str(path)


def test_repository_config_loads_with_base_files_and_opts():
    config = load_config(str(SCL_CONFIG), ["batch_size=3", "model.align_corners=True"])
    assert config.batch_size == 3
    assert config.model_cfg == {"type": "ConnectNet", "num_classes": 2, "align_corners": True}
    losses = config.loss_cfg["types"][0]["losses"]
    assert [loss["type"] for loss in losses] == ["CrossEntropyLoss", "SCLoss"]
    assert config.val_dataset_cfg["type"] == "VideoPortraitDataset"


@pytest.mark.parametrize("field, wrong, expected", [
    ("model", "ConectNet", "'ConnectNet'"),
    ("loss", "SCLos", "'SCLoss'"),
    ("optimizer", "Momentun", "'Momentum'"),
    ("lr_scheduler", "PolynomialDecai", "'PolynomialDecay'"),
])
def test_unknown_type_names_the_field_and_the_closest_registered_names(tmp_path, field, wrong, expected):
    right = {"model": "ConnectNet", "loss": "SCLoss", "optimizer": "Momentum",
             "lr_scheduler": "PolynomialDecay"}[field]
    base = {"_base_": str(SCL_CONFIG)}
    if field == "model":
        base["model"] = {"type": wrong}
    elif field == "loss":
        base["loss"] = {"types": [{"type": "MixedLoss", "losses": [{"type": "CrossEntropyLoss"},
                                                                   {"type": wrong}], "coef": [1, 1]}],
                        "coef": [1]}
    else:
        base[field] = {"type": wrong}
    assert right != wrong
    path = write(tmp_path / "typo.yml", yaml.safe_dump(base))
    with pytest.raises(UsageError) as error:
        load_config(path)
    message = str(error.value)
    assert "\n" not in message and f"unknown component '{wrong}'" in message and expected in message
    assert message.startswith(path)


def test_missing_file_yaml_error_and_missing_sections_are_one_line(tmp_path):
    with pytest.raises(UsageError, match="config file not found"):
        load_config(str(tmp_path / "absent.yml"))
    broken = write(tmp_path / "broken.yml", "batch_size: 2\nmodel: [1\n  x: 2\n")
    with pytest.raises(UsageError, match=r"broken.yml:3: invalid YAML"):
        load_config(broken)
    path = write(tmp_path / "no_model.yml", yaml.safe_dump({"_base_": str(SCL_CONFIG)}))
    config = load_config(path, required=("model", "val_dataset"))  # inherited sections count
    assert config.model_cfg
    with pytest.raises(UsageError, match="no 'test_only' section"):
        load_config(path, required=("test_only",))
    with pytest.raises(UsageError, match="expected key=value"):
        load_config(path, ["batch_size"])
    with pytest.raises(UsageError, match="nosuch"):
        load_config(path, ["nosuch.key=1"])


def test_missing_dataset_root_and_builder_errors(tmp_path):
    path = str(write_config(tmp_path / "c.yml", tmp_path / "no_data"))
    config = load_config(path)
    with pytest.raises(UsageError, match="train_dataset.dataset_root: directory not found"):
        check_dataset_root(config, "train_dataset")
    config = load_config(path, ["model.num_classes=3"])
    with pytest.raises(UsageError, match="num_classes"):
        ComponentBuilder(config, path).build("model")


@pytest.mark.parametrize("section", ["model", "train_dataset"])
def test_config_without_model_or_dataset_is_a_one_line_error(tmp_path, section):
    from paddleseg.cvlibs.config import parse_from_yaml

    flat = parse_from_yaml(str(SCL_CONFIG))
    del flat[section]
    path = write(tmp_path / f"no_{section}.yml", yaml.safe_dump(flat))
    with pytest.raises(UsageError) as error:
        load_config(path)
    assert str(error.value) == f"{path}: No {section} specified in the configuration file."
