"""Tiny generated video data (``pphumanseg.synth``) and configs that build on the repository's
ConnectNet configs through ``_base_``, overriding only the data root and the input size."""
from pathlib import Path

import yaml

from pphumanseg.synth import write_dataset

REPO = Path(__file__).resolve().parents[2]
SCL_CONFIG = REPO / "configs/connectnet/connectnet_portrait_398x224_scl.yml"
SIZE = (64, 36)  # width, height
NORMALIZE = {"type": "Normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
RESIZE = {"type": "Resize", "target_size": list(SIZE)}


def write_videos(root, videos=4, frames=4, seed=0):
    """train: 2 videos, val: 1, test: 1, each of ``frames`` frames at SIZE."""
    write_dataset(str(root), videos=videos, frames=frames, size=SIZE, seed=seed, split=(0.5, 0.25, 0.25))
    return Path(root)


def write_config(path, data_root, base=SCL_CONFIG, iters=4, batch_size=2, **sections):
    """A config inheriting ``base`` that trains on ``data_root`` at SIZE; ``sections`` override more."""
    config = {
        "_base_": str(base),
        "batch_size": batch_size,
        "iters": iters,
        "train_dataset": {"dataset_root": str(data_root),
                          "transforms": [RESIZE, {"type": "RandomHorizontalFlip"},
                                         {"type": "RandomDistort"}, NORMALIZE]},
        "val_dataset": {"dataset_root": str(data_root), "transforms": [RESIZE, NORMALIZE]},
    }
    config.update(sections)
    Path(path).write_text(yaml.safe_dump(config, sort_keys=False))
    return Path(path)
