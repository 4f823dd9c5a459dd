import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "core"))  # tiny_dataset; in_process is in tests/

from in_process import run_cli  # noqa: E402
from tiny_dataset import write_config, write_videos  # noqa: E402


@pytest.fixture(scope="session")
def videos(tmp_path_factory):
    return write_videos(tmp_path_factory.mktemp("videos"))


@pytest.fixture(scope="session")
def config(videos):
    return write_config(videos.parent / "config.yml", videos)


@pytest.fixture(scope="session")
def trained(config, tmp_path_factory):
    """A checkpoint from 4 iterations of CE + SC training, shared by val/predict/export tests."""
    save_dir = tmp_path_factory.mktemp("trained")
    assert run_cli("train", "--config", config, "--save_dir", save_dir, "--save_interval", 4,
                   "--log_iters", 2) == 0
    return save_dir / "iter_4" / "model.pdparams"
