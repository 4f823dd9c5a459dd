import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from tiny_dataset import write_config, write_videos  # noqa: E402

from pphumanseg.cli.main import main  # noqa: E402


def run_cli(*argv):
    """Runs ``pphumanseg`` in this process; returns its exit status."""
    try:
        return main([str(arg) for arg in argv])
    except SystemExit as exit_:
        return exit_.code


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
