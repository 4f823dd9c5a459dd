import pytest

from pphumanseg.synth import write_dataset


@pytest.fixture
def dataset_root(tmp_path):
    """A fresh generated dataset: 4 videos of 3 frames at 64x36 (train 2 videos, val 1, test 1)."""
    root = tmp_path / "data"
    write_dataset(str(root), videos=4, frames=3, size=(64, 36), seed=11)
    return root
