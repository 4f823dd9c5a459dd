"""Procedural textures for walls, wood, fabric and screens, built once per video.

Every function takes a ``numpy.random.Generator`` and returns a uint8 BGR image; nothing here
depends on global random state, so a video's textures follow from its seed alone.
"""
import cv2
import numpy as np


def smooth_noise(rng, height, width, cells, channels=1):
    """Low-frequency noise in [-1, 1]: a ``cells``-wide random grid resized with bicubic filtering."""
    cells_y = max(2, int(round(cells * height / max(width, 1))))
    grid = rng.uniform(-1.0, 1.0, size=(cells_y, max(2, cells), channels)).astype(np.float32)
    noise = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(noise.reshape(height, width, channels), -1.0, 1.0)


def tinted(base_color, variation, amount):
    """``base_color`` (BGR) modulated by ``variation`` (HxWx1 or HxWx3 in [-1, 1]) scaled by ``amount``."""
    base = np.asarray(base_color, np.float32).reshape(1, 1, 3)
    return np.clip(base * (1.0 + amount * variation), 0, 255).astype(np.uint8)


def plaster(rng, height, width, color):
    """Painted wall: large soft blotches plus fine grain."""
    variation = 0.7 * smooth_noise(rng, height, width, 6) + 0.3 * smooth_noise(rng, height, width, 60)
    return tinted(color, variation, 0.08)


def wood(rng, height, width, color):
    """Wood grain running horizontally: stretched noise bent into rings."""
    rows = smooth_noise(rng, height, width, 3)[..., 0]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    rings = np.sin((y * rng.uniform(20, 45) + 2.5 * rows) * np.pi)
    grain = 0.6 * rings + 0.4 * smooth_noise(rng, height, width, 90)[..., 0]
    return tinted(color, grain[..., None], 0.12)


def fabric(rng, height, width, color, pattern):
    """Clothing fabric: ``pattern`` is one of ``FABRIC_PATTERNS``; all get a knit-like grain and folds."""
    base = np.asarray(color, np.float32)
    image = np.empty((height, width, 3), np.float32)
    image[:] = base
    if pattern in ("stripes", "checks"):
        second = np.clip(base * rng.uniform(0.45, 0.75) + rng.uniform(-30, 30, 3), 0, 255)
        period = rng.uniform(6, 18) * max(height, width) / 400.0
        y = np.arange(height, dtype=np.float32)[:, None]
        x = np.arange(width, dtype=np.float32)[None, :]
        band = (np.floor(y / period) % 2).astype(bool)
        if pattern == "checks":
            band = band ^ (np.floor(x / period) % 2).astype(bool)
        else:
            band = np.broadcast_to(band, (height, width))
        image[band] = second
    elif pattern == "print":
        blobs = smooth_noise(rng, height, width, 40)[..., 0] > 0.45
        image[blobs] = np.clip(base[::-1] * 0.9 + 40, 0, 255)
    folds = 0.7 * smooth_noise(rng, height, width, 8) + 0.3 * smooth_noise(rng, height, width, 120)
    image *= 1.0 + 0.12 * folds
    return np.clip(image, 0, 255).astype(np.uint8)


FABRIC_PATTERNS = ("plain", "stripes", "checks", "print")


def screen_content(rng, height, width):
    """A monitor showing a desktop: a bright or dark theme with window rectangles and text lines."""
    dark = rng.random() < 0.5
    background = rng.uniform(20, 60, 3) if dark else rng.uniform(180, 240, 3)
    image = np.empty((height, width, 3), np.uint8)
    image[:] = background.astype(np.uint8)
    for _ in range(rng.integers(1, 4)):
        x0, y0 = int(rng.uniform(0, 0.6) * width), int(rng.uniform(0, 0.6) * height)
        x1, y1 = x0 + int(rng.uniform(0.3, 0.7) * width), y0 + int(rng.uniform(0.3, 0.7) * height)
        cv2.rectangle(image, (x0, y0), (x1, y1), rng.uniform(60, 250, 3).tolist(), -1)
        line_color = (30, 30, 30) if not dark else (200, 200, 200)
        for y in range(y0 + 3, y1 - 2, max(2, height // 12)):
            cv2.line(image, (x0 + 3, y), (x0 + 3 + int(rng.uniform(0.2, 0.9) * (x1 - x0 - 6)), y),
                     line_color, 1)
    return image
