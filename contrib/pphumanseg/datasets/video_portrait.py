"""``VideoPortraitDataset``: PP-HumanSeg14K-style teleconference video frames for paddleseg.

Items are the dicts paddleseg's trainer and evaluator expect (``img``, ``label``, ``trans_info``,
``gt_fields``; the label gets a leading axis in ``val`` mode as in ``paddleseg.datasets.Dataset``)
plus ``img_path``, ``label_path``, ``video_id``, ``camera_id`` and ``frame_index`` (position of
the frame in its video and camera stream).
"""
import os
import random

import numpy as np
import paddle
from paddleseg.cvlibs import manager
from paddleseg.transforms import Compose
from paddleseg.utils import logger

from pphumanseg.utils.registry import register

from .frame_check import LabelMapping, load_frame
from .frame_list import FrameNamer, drop_repeated_frames, group_streams, read_frame_list, split_leaks

MODES = ("train", "val", "test")


@register(manager.DATASETS)
class VideoPortraitDataset(paddle.io.Dataset):
    """Portrait segmentation frames grouped into videos (PP-HumanSeg14K layout).

    ``dataset_root`` holds ``train.txt``, ``val.txt`` and ``test.txt`` with one
    ``image_path label_path`` per line relative to the root (test lines may lack the label).
    Construction checks the list (missing or empty file, malformed or duplicate lines, missing
    files, a video that is also in another split) without decoding images; decoding problems
    (unreadable file, size mismatch, unexpected label values) are found when a frame is loaded or
    by ``validate()``. Every message names ``list_file:line``.

    Args:
        dataset_root: the dataset directory.
        transforms: list of paddleseg transforms (a ``Compose`` is built from it).
        mode: "train", "val" or "test"; reads ``<mode>.txt``.
        num_classes: must be 2 (background, person); kept for paddleseg config compatibility.
        ignore_index: label value excluded from loss and metrics.
        foreground_value: stored value of person pixels, 1 or 255 (then mapped to 1).
        video_regex: None to take the image's parent folder as the video and order frames by
            natural sort of the file name; or a regex searched in the image path with named groups
            ``video`` and optional ``frame`` (integer order) and ``camera`` (multi-camera scenes).
        temporal: if True, item ``k`` is the pair ``(frame_t, frame_t+1)`` of the ``k``-th entry
            of ``consecutive_pairs()``, both transformed with the same random choices.
        skip_invalid: drop invalid lines (and, in ``validate()``, undecodable frames) with a
            warning that counts them, instead of raising ValueError.
    """

    NUM_CLASSES = 2
    IGNORE_INDEX = 255
    IMG_CHANNELS = 3

    def __init__(self, dataset_root, transforms, mode="train", num_classes=2, ignore_index=255,
                 foreground_value=1, video_regex=None, temporal=False, skip_invalid=False):
        self.mode = str(mode).lower()
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if num_classes != self.NUM_CLASSES:
            raise ValueError(f"VideoPortraitDataset is binary (background, person): num_classes must "
                             f"be 2, got {num_classes!r}")
        if not os.path.isdir(dataset_root):
            raise ValueError(f"dataset_root {dataset_root} is not a directory")
        self.dataset_root = dataset_root
        self.transforms = Compose(transforms, img_channels=self.IMG_CHANNELS)
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.img_channels = self.IMG_CHANNELS
        self.mapping = LabelMapping(foreground_value, ignore_index)
        self.namer = FrameNamer(video_regex)
        self.temporal = temporal
        self.skip_invalid = skip_invalid
        self.skipped = []
        self.list_path = os.path.join(dataset_root, f"{self.mode}.txt")

        frames, problems = read_frame_list(self.list_path, dataset_root, self.namer,
                                           labels_required=self.mode != "test")
        frames, repeated = drop_repeated_frames(frames)
        frames, leaked = self._drop_leaked_videos(frames)
        self._accept(frames, problems + repeated + leaked)

    def _drop_leaked_videos(self, frames):
        """Frames whose video is not in another split's list, and a problem for each that is."""
        splits = {self.mode: frames}
        for other in MODES:
            path = os.path.join(self.dataset_root, f"{other}.txt")
            if other == self.mode or not os.path.isfile(path):
                continue
            try:
                splits[other], _ = read_frame_list(path, self.dataset_root, self.namer,
                                                   labels_required=False, check_files=False)
            except ValueError:
                continue  # an empty split is that split's problem, reported when it is loaded
        leaks = split_leaks(splits)
        kept, problems = [], []
        for frame in frames:
            if frame.video_id in leaks:
                other = next(split for split in leaks[frame.video_id] if split != self.mode)
                problems.append(f"{frame.where}: video {frame.video_id!r} is also in "
                                f"{leaks[frame.video_id][other].where} (split leakage)")
            else:
                kept.append(frame)
        return kept, problems

    def _accept(self, frames, problems):
        """Keep ``frames``; raise on ``problems`` unless ``skip_invalid``, then rebuild the index."""
        if problems:
            if not self.skip_invalid:
                more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
                raise ValueError(problems[0] + more)
            self.skipped.extend(problems)
            logger.warning(f"VideoPortraitDataset: skipped {len(problems)} invalid lines of "
                           f"{self.list_path}; first: {problems[0]}")
        if not frames:
            raise ValueError(f"{self.list_path}: no valid frames left")
        self.frames = frames
        self.file_list = [[os.path.join(self.dataset_root, frame.image),
                           None if frame.label is None else os.path.join(self.dataset_root, frame.label)]
                          for frame in frames]
        self.streams = group_streams(frames)
        self.frame_index = [0] * len(frames)
        for positions in self.streams.values():
            for order, position in enumerate(positions):
                self.frame_index[position] = order
        self.videos = {}
        for (video, _camera), positions in sorted(self.streams.items()):
            self.videos.setdefault(video, []).extend(positions)
        self._pairs = [pair for positions in self.streams.values()
                       for pair in zip(positions[:-1], positions[1:])]

    def consecutive_pairs(self):
        """(index_t, index_t+1) of consecutive frames within each video and camera stream."""
        return list(self._pairs)

    def validate(self):
        """Decode every frame; return the problems, dropping bad frames if ``skip_invalid``.

        Raises:
            ValueError: listing the first problem, if any and ``skip_invalid`` is False.
        """
        problems, kept = [], []
        for frame, (image_path, label_path) in zip(self.frames, self.file_list):
            try:
                load_frame(image_path, label_path, frame.where, self.mapping)
                kept.append(frame)
            except ValueError as error:
                problems.append(str(error))
        if problems:
            self._accept(kept, problems)
        return problems

    def __len__(self):
        return len(self._pairs) if self.temporal else len(self.frames)

    def __getitem__(self, index):
        if not self.temporal:
            return self.load_frame(index)
        first, second = self._pairs[index]
        # Give both frames the same random augmentation so their difference is only motion.
        python_state, numpy_state = random.getstate(), np.random.get_state()
        item_first = self.load_frame(first)
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        return item_first, self.load_frame(second)

    def load_frame(self, index):
        """The transformed item of frame ``index`` (a position in ``file_list``)."""
        frame = self.frames[index]
        image_path, label_path = self.file_list[index]
        image, label = load_frame(image_path, label_path, frame.where, self.mapping)
        data = {"img": image.astype("float32"), "trans_info": [], "gt_fields": [],
                "img_path": image_path, "label_path": label_path or "", "video_id": frame.video_id,
                "camera_id": frame.camera_id, "frame_index": self.frame_index[index]}
        if label is not None:
            data["label"] = label
            if self.mode != "val":
                data["gt_fields"].append("label")
        data = self.transforms(data)
        if label is not None and self.mode == "val":
            data["label"] = data["label"][np.newaxis, :, :]
        return data
