"""A tiny segmentation dataset in paddleseg's file-list format and configs that train on it."""
from pathlib import Path

import cv2
import numpy as np
import yaml

WIDTH, HEIGHT = 48, 32


def write_dataset(root, samples=6, seed=0):
    """Writes ``samples`` images with a bright ellipse (class 1) on noise, plus train/val lists."""
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "labels").mkdir(exist_ok=True)
    rng = np.random.RandomState(seed)
    lines = []
    for index in range(samples):
        label = np.zeros((HEIGHT, WIDTH), np.uint8)
        center = (int(rng.randint(12, WIDTH - 12)), int(rng.randint(10, HEIGHT - 10)))
        cv2.ellipse(label, center, (int(rng.randint(5, 11)), int(rng.randint(5, 9))), 0, 0, 360, 1, -1)
        image = rng.randint(0, 90, (HEIGHT, WIDTH, 3)).astype(np.uint8)
        image[label == 1] += np.uint8(150)
        cv2.imwrite(str(root / "images" / f"{index}.jpg"), image)
        cv2.imwrite(str(root / "labels" / f"{index}.png"), label)
        lines.append(f"images/{index}.jpg labels/{index}.png")
    (root / "train.txt").write_text("\n".join(lines) + "\n")
    (root / "val.txt").write_text("\n".join(lines[: max(2, samples // 2)]) + "\n")
    return root


def config_dict(root, model="ConnectNet", loss=None, iters=4, batch_size=2):
    root = str(root)
    normalize = {"type": "Normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
    resize = {"type": "Resize", "target_size": [WIDTH, HEIGHT]}
    common = {"type": "Dataset", "dataset_root": root, "num_classes": 2}
    return {
        "batch_size": batch_size,
        "iters": iters,
        "train_dataset": dict(common, mode="train", train_path=f"{root}/train.txt",
                              transforms=[resize, {"type": "RandomHorizontalFlip"},
                                          {"type": "RandomDistort"}, normalize]),
        "val_dataset": dict(common, mode="val", val_path=f"{root}/val.txt", transforms=[resize, normalize]),
        "model": {"type": model, "num_classes": 2},
        "optimizer": {"type": "Momentum", "momentum": 0.9, "weight_decay": 0.0005},
        "lr_scheduler": {"type": "PolynomialDecay", "learning_rate": 0.05, "end_lr": 0, "power": 0.9},
        "loss": loss or {"types": [{"type": "CrossEntropyLoss"}], "coef": [1]},
    }


def write_config(path, root, **kwargs):
    path = Path(path)
    path.write_text(yaml.safe_dump(config_dict(root, **kwargs), sort_keys=False))
    return path


SCL_LOSS = {"types": [{"type": "MixedLoss", "losses": [{"type": "CrossEntropyLoss"}, {"type": "SCLoss"}],
                       "coef": [1, 0.1]}], "coef": [1]}
