import subprocess
import sys

import pytest

MANAGERS = ("MODELS", "BACKBONES", "LOSSES", "DATASETS", "TRANSFORMS")

SNAPSHOT = """
import json, sys
from paddleseg.cvlibs import manager
def snapshot():
    return {name: {key: f"{value.__module__}.{value.__qualname__}"
                   for key, value in getattr(manager, name).components_dict.items()}
            for name in %r}
before = snapshot()
import pphumanseg
after = snapshot()
json.dump({"before": before, "after": after, "version": pphumanseg.__version__}, sys.stdout)
""" % (MANAGERS,)


@pytest.fixture(scope="module")
def registry_snapshot():
    import json
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", SNAPSHOT], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def test_import_keeps_every_paddleseg_component(registry_snapshot):
    before, after = registry_snapshot["before"], registry_snapshot["after"]
    for manager_name in MANAGERS:
        for name, qualified in before[manager_name].items():
            assert after[manager_name][name] == qualified, f"{manager_name}.{name} was replaced"


@pytest.mark.parametrize("manager_name,component", [
    ("MODELS", "ConnectNet"),
    ("BACKBONES", "ConnectNetEncoder"),
    ("LOSSES", "SCLoss"),
    ("DATASETS", "VideoPortraitDataset"),
])
def test_import_registers_pphumanseg_components(registry_snapshot, manager_name, component):
    added = set(registry_snapshot["after"][manager_name]) - set(registry_snapshot["before"][manager_name])
    assert component in added
    assert registry_snapshot["after"][manager_name][component].startswith("pphumanseg.")


def test_every_added_component_comes_from_pphumanseg(registry_snapshot):
    for manager_name in MANAGERS:
        before, after = registry_snapshot["before"][manager_name], registry_snapshot["after"][manager_name]
        for name in set(after) - set(before):
            assert after[name].startswith("pphumanseg."), (manager_name, name)


def test_version_is_exposed(registry_snapshot):
    assert registry_snapshot["version"].count(".") == 2


def test_register_refuses_to_shadow_a_paddleseg_name():
    from paddleseg.cvlibs import manager
    from pphumanseg.utils.registry import register

    class UNet:  # same name as paddleseg's model
        pass

    original = manager.MODELS["UNet"]
    with pytest.raises(KeyError, match="UNet"):
        register(manager.MODELS)(UNet)
    assert manager.MODELS["UNet"] is original
