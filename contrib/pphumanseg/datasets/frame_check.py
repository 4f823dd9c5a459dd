"""Decoding checks of one frame: readable image and label, same size, only expected label values.

These decode files, so they run lazily (when a frame is loaded) or all at once from
``VideoPortraitDataset.validate`` / ``pphumanseg data validate``, never at construction.
"""
import cv2
import numpy as np
from PIL import Image


class LabelMapping:
    """Maps stored label values to training values: background 0, person 1, ignore ``ignore_index``.

    Args:
        foreground_value: the stored value of person pixels, 1 or 255.
        ignore_index: the value of pixels to ignore; kept as is unless it is the foreground value.
    """

    def __init__(self, foreground_value, ignore_index):
        if foreground_value not in (1, 255):
            raise ValueError(f"foreground_value must be 1 or 255, got {foreground_value!r}")
        if not 0 <= ignore_index <= 255 or ignore_index in (0, 1):
            raise ValueError(f"ignore_index must be in 2..255, got {ignore_index!r}")
        self.allowed = sorted({0, foreground_value, ignore_index})
        self.table = np.full(256, -1, np.int16)
        self.table[0] = 0
        self.table[ignore_index] = ignore_index
        self.table[foreground_value] = 1

    def unexpected(self, label):
        """Sorted stored values in ``label`` that are neither background, person nor ignore."""
        counts = np.bincount(label.ravel(), minlength=256)
        present = np.flatnonzero(counts)
        return [int(value) for value in present if self.table[value] < 0]

    def apply(self, label):
        return self.table[label].astype(np.uint8)


def read_image(path, where):
    """BGR uint8 image; raises ValueError naming ``where`` if it cannot be decoded."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{where}: cannot read image {path}")
    return image


def read_label(path, where):
    """Single-channel label as uint8 (palette PNGs give their indices, like paddleseg)."""
    try:
        with Image.open(path) as handle:
            label = np.asarray(handle)
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"{where}: cannot read label {path}: {error}") from None
    if label.ndim != 2:
        raise ValueError(f"{where}: label {path} has shape {label.shape}, expected one channel")
    if label.dtype != np.uint8:
        if label.size and (label.min() < 0 or label.max() > 255):
            raise ValueError(f"{where}: label {path} has values outside 0..255")
        label = label.astype(np.uint8)
    return label


def load_frame(image_path, label_path, where, mapping):
    """(image, mapped label or None) after every decoding check; raises ValueError naming ``where``."""
    image = read_image(image_path, where)
    if label_path is None:
        return image, None
    label = read_label(label_path, where)
    if label.shape != image.shape[:2]:
        raise ValueError(f"{where}: label size {label.shape[1]}x{label.shape[0]} differs from image "
                         f"size {image.shape[1]}x{image.shape[0]}")
    unexpected = mapping.unexpected(label)
    if unexpected:
        raise ValueError(f"{where}: label {label_path} has unexpected values {unexpected[:8]}; "
                         f"allowed are {mapping.allowed} (see foreground_value, ignore_index)")
    return image, mapping.apply(label)
