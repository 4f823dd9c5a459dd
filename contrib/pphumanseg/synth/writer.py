"""Writing generated videos to disk: a PP-HumanSeg14K-style dataset, or one mp4 clip.

Dataset layout (paths in the list files are relative to the root)::

    DIR/images/video_0000/000000.jpg   DIR/labels/video_0000/000000.png   (labels: 0/1 PNG)
    DIR/train.txt  DIR/val.txt  DIR/test.txt   ("image_path label_path" per line)
    DIR/synth.json                              (the arguments, to regenerate the data)

Videos are assigned to splits whole, so no video is in two splits. Every file is written to a
temporary name and renamed, and the list files come last: an interrupted run leaves no list file
that points at missing frames.
"""
import json
import os

import cv2
import numpy as np

from pphumanseg.utils.atomic_write import atomic_write, atomic_write_text

from .presets import get_preset
from .scene import make_scene, render_clip

SPLITS = ("train", "val", "test")
IMAGE_FORMATS = ("jpg", "png")
# Binary masks compress best, and fastest, with run-length encoding.
LABEL_PNG = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]
IMAGE_PNG = [cv2.IMWRITE_PNG_COMPRESSION, 3]


def split_videos(videos, fractions, seed):
    """Assign ``videos`` video indices to train/val/test by ``fractions``; each split gets at least one.

    Returns:
        dict split name -> sorted list of video indices.
    """
    if videos < len(SPLITS):
        raise ValueError(f"need at least {len(SPLITS)} videos to fill train, val and test, got {videos}")
    fractions = np.asarray(fractions, np.float64)
    if fractions.shape != (3,) or np.any(fractions <= 0):
        raise ValueError(f"split fractions must be three positive numbers, got {list(fractions)}")
    counts = np.maximum(1, np.floor(fractions / fractions.sum() * videos).astype(int))
    counts[0] = videos - counts[1:].sum()
    order = np.random.default_rng([seed, 0x5B17]).permutation(videos)
    bounds = np.cumsum(counts)[:-1]
    return {name: sorted(int(i) for i in part) for name, part in zip(SPLITS, np.split(order, bounds))}


def _write_image(path, image, params):
    atomic_write(path, lambda temporary: cv2.imwrite(temporary, image, params))


def write_png(path, image):
    """Write ``image`` as a PNG through a temporary file."""
    _write_image(path, image, IMAGE_PNG)


def write_dataset(out_dir, videos, frames, size=(398, 224), seed=0, preset="default",
                  split=(0.6, 0.2, 0.2), image_format="jpg"):
    """Generate ``videos`` videos of ``frames`` frames into ``out_dir`` (layout in the module docstring).

    Video ``i`` depends only on (seed, i, frames, size, preset), so adding videos keeps the others.

    Returns:
        dict split name -> number of frames written.
    """
    get_preset(preset)
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"image format must be one of {', '.join(IMAGE_FORMATS)}, got {image_format!r}")
    assignment = split_videos(videos, split, seed)
    lines = {name: [] for name in SPLITS}
    split_of = {index: name for name, indices in assignment.items() for index in indices}
    for index in range(videos):
        video = f"video_{index:04d}"
        image_dir = os.path.join(out_dir, "images", video)
        label_dir = os.path.join(out_dir, "labels", video)
        os.makedirs(image_dir, exist_ok=True)
        os.makedirs(label_dir, exist_ok=True)
        scene = make_scene(size, frames, (seed, index), preset)
        # A JPEG at the camera's quality is the simulated codec itself: no second compression.
        image_params = ([cv2.IMWRITE_JPEG_QUALITY, scene.camera.jpeg_quality] if image_format == "jpg"
                        else IMAGE_PNG)
        for t in range(frames):
            image, mask = scene.render(t, compress=image_format != "jpg")
            image_path = f"images/{video}/{t:06d}.{image_format}"
            label_path = f"labels/{video}/{t:06d}.png"
            _write_image(os.path.join(out_dir, image_path), image, image_params)
            _write_image(os.path.join(out_dir, label_path), mask, LABEL_PNG)
            lines[split_of[index]].append(f"{image_path} {label_path}\n")
    settings = {"videos": videos, "frames": frames, "size": list(size), "seed": seed, "preset": preset,
                "split": list(split), "image_format": image_format, "foreground_value": 1}
    atomic_write_text(os.path.join(out_dir, "synth.json"), json.dumps(settings, indent=2, sort_keys=True) + "\n")
    for name in SPLITS:
        atomic_write_text(os.path.join(out_dir, f"{name}.txt"), "".join(lines[name]))
    return {name: len(lines[name]) for name in SPLITS}


def write_clip(path, size=(1280, 720), frames=100, seed=0, preset="default", fps=25, mask_dir=None):
    """Write one generated video as an mp4 (``mp4v``) and return its masks.

    Args:
        path: the ``.mp4`` file to write.
        size, frames, seed, preset: as for ``render_clip``.
        fps: frame rate stored in the file.
        mask_dir: if given, masks are also written there as ``000000.png``... (0/1 PNG).

    Returns:
        uint8 array (frames, H, W) of masks, 1 = person.
    """
    width, height = (int(v) for v in size)
    masks = np.empty((frames, height, width), np.uint8)

    def write(temporary):
        writer = cv2.VideoWriter(temporary, cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
        if not writer.isOpened():
            raise OSError(f"OpenCV cannot write mp4 video to {path}")
        if mask_dir is not None:
            os.makedirs(mask_dir, exist_ok=True)
        try:
            for t, (image, mask) in enumerate(render_clip((width, height), frames, seed, preset)):
                writer.write(image)
                masks[t] = mask
                if mask_dir is not None:
                    _write_image(os.path.join(mask_dir, f"{t:06d}.png"), mask, LABEL_PNG)
        finally:
            writer.release()

    atomic_write(path, write)
    return masks
