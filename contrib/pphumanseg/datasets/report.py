"""Whole-dataset checks and statistics behind ``pphumanseg data validate`` and ``data stats``."""
import os

import numpy as np

from .frame_check import LabelMapping, load_frame
from .frame_list import FrameNamer, drop_repeated_frames, read_frame_list, split_leaks
from .video_portrait import MODES

REQUIRED_SPLITS = ("train", "val")


def _read_splits(root, namer, check_files):
    """{split: (frames, problems)} for every split whose list file exists; missing required ones
    are a problem."""
    splits, problems = {}, []
    for split in MODES:
        path = os.path.join(root, f"{split}.txt")
        if not os.path.isfile(path):
            if split in REQUIRED_SPLITS:
                problems.append(f"{path}: list file not found")
            continue
        try:
            frames, found = read_frame_list(path, root, namer, labels_required=split != "test",
                                            check_files=check_files)
        except ValueError as error:
            problems.append(str(error))
            continue
        frames, repeated = drop_repeated_frames(frames)
        splits[split] = frames
        problems.extend(found + repeated)
    return splits, problems


def validate_dataset(root, foreground_value=1, ignore_index=255, video_regex=None):
    """Every problem of the dataset under ``root``, each as one ``file:line: message`` string.

    Checks the list files (format, duplicates, missing files, repeated frames), split leakage,
    and decodes every image and label (readable, same size, only expected label values).
    """
    if not os.path.isdir(root):
        raise ValueError(f"dataset root {root} is not a directory")
    mapping = LabelMapping(foreground_value, ignore_index)
    splits, problems = _read_splits(root, FrameNamer(video_regex), check_files=True)
    for video, found in split_leaks(splits).items():
        problems.append(f"{root}: video {video!r} is in several splits: {', '.join(found)}")
    for frames in splits.values():
        for frame in frames:
            label = None if frame.label is None else os.path.join(root, frame.label)
            try:
                load_frame(os.path.join(root, frame.image), label, frame.where, mapping)
            except ValueError as error:
                problems.append(str(error))
    return problems


def dataset_statistics(root, foreground_value=1, ignore_index=255, video_regex=None):
    """Per split: videos, frames, labelled frames and foreground ratio; plus leaking videos.

    The foreground ratio is person pixels over labelled (not ignored) pixels, over all decodable
    labels of the split. Lines with problems are left out (``validate_dataset`` lists them).

    Returns:
        {"splits": {split: {...}}, "leaks": {video_id: [split, ...]}, "problems": int}
    """
    if not os.path.isdir(root):
        raise ValueError(f"dataset root {root} is not a directory")
    mapping = LabelMapping(foreground_value, ignore_index)
    splits, problems = _read_splits(root, FrameNamer(video_regex), check_files=True)
    summary = {}
    for split, frames in splits.items():
        person = labelled = labelled_frames = 0
        for frame in frames:
            if frame.label is None:
                continue
            try:
                _, label = load_frame(os.path.join(root, frame.image), os.path.join(root, frame.label),
                                      frame.where, mapping)
            except ValueError:
                problems.append(frame.where)
                continue
            counts = np.bincount(label.ravel(), minlength=2)
            person += int(counts[1])
            labelled += int(counts[0] + counts[1])
            labelled_frames += 1
        summary[split] = {"videos": len({frame.video_id for frame in frames}), "frames": len(frames),
                          "labelled_frames": labelled_frames,
                          "foreground_ratio": person / labelled if labelled else None}
    leaks = {video: list(found) for video, found in split_leaks(splits).items()}
    return {"splits": summary, "leaks": leaks, "problems": len(problems)}
