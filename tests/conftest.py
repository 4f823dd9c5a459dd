import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# One thread per process: tests run on 2 cores and several start subprocesses.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def repo_root():
    return REPO


@pytest.fixture
def cli_env():
    """Environment for running `python -m pphumanseg ...` in a subprocess from any directory."""
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = "ignore"
    return env



# PaddleSeg's released PP-HumanSegV1-Lite portrait model, provided beside the repository as test
# data (../shared/weights/README.md): a PPHumanSegLite-layout checkpoint and the official ONNX.
RELEASE_DIR = REPO.parent / "shared" / "weights"
RELEASE_NAME = "pp_humanseg_v1_lite_portrait_398x224"


@pytest.fixture(scope="session")
def released_weights():
    """The released checkpoint (paddleseg key names, without the never-used shortcuts)."""
    path = RELEASE_DIR / f"{RELEASE_NAME}.pdparams"
    assert path.is_file(), f"{path}: the released weights the tests need are missing"
    return path


@pytest.fixture(scope="session")
def released_onnx():
    path = RELEASE_DIR / f"{RELEASE_NAME}.onnx"
    assert path.is_file(), f"{path}: the released ONNX model the tests need is missing"
    return path


@pytest.fixture(scope="session")
def real_photos():
    """Photos of real people shipped by registry packages (scripts/real_photos.py)."""
    spec = importlib.util.spec_from_file_location("real_photos", REPO / "scripts" / "real_photos.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.real_photos()
