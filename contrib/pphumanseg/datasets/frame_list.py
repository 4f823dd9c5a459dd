"""Reading a PP-HumanSeg14K-style list file into frames that know their video.

A list file (``train.txt``, ``val.txt``, ``test.txt`` under the dataset root) has one
``image_path label_path`` per line, relative to the root; test lines may lack the label. Each
frame gets a video id, an optional camera id and a sort key: by default the video is the image's
parent folder and frames are ordered by the natural sort of the file name (``frame2`` before
``frame10``). A ``video_regex`` searched in the image path overrides this with named groups
``video`` (required), ``frame`` (optional, an integer) and ``camera`` (optional).

Only cheap checks happen here (no image is decoded); every problem is reported as
``list_file:line: message``.
"""
import os
import re
from dataclasses import dataclass
from typing import Optional

_DIGITS = re.compile(r"(\d+)")


def natural_key(text):
    """Sort key that orders embedded numbers by value: ``f2.jpg`` < ``f10.jpg``."""
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(text))


@dataclass
class Frame:
    """One line of a list file.

    ``image``/``label`` are paths relative to the root as written in the file (``label`` is None
    for an unlabelled test line); ``where`` is ``list_file:line`` for messages.
    """

    where: str
    image: str
    label: Optional[str]
    video_id: str
    camera_id: str
    sort_key: tuple


class FrameNamer:
    """Derives (video id, camera id, sort key) from an image path.

    Args:
        video_regex: None for parent folder + natural sort, or a regex with a named group
            ``video`` and optional groups ``frame`` and ``camera``.
    """

    def __init__(self, video_regex=None):
        self.pattern = None
        if video_regex is not None:
            try:
                self.pattern = re.compile(video_regex)
            except re.error as error:
                raise ValueError(f"video_regex {video_regex!r} is not a valid regex: {error}") from None
            if "video" not in self.pattern.groupindex:
                raise ValueError(f"video_regex {video_regex!r} needs a named group (?P<video>...)")

    def __call__(self, image):
        """(video_id, camera_id, sort_key) of ``image``; raises ValueError when it does not fit."""
        if self.pattern is None:
            folder, name = os.path.split(image)
            return folder, "", natural_key(name)
        match = self.pattern.search(image)
        if match is None:
            raise ValueError(f"video_regex {self.pattern.pattern!r} does not match {image!r}")
        groups = match.groupdict()
        camera = groups.get("camera") or ""
        frame = groups.get("frame")
        if frame is None:
            return groups["video"], camera, natural_key(os.path.basename(image))
        if not frame.isdigit():
            raise ValueError(f"the frame group of video_regex matched {frame!r} in {image!r}, not a number")
        return groups["video"], camera, (int(frame),)


def read_frame_list(list_path, root, namer, labels_required, check_files=True):
    """Parse ``list_path`` into frames, collecting problems instead of stopping at the first.

    Args:
        list_path: the list file.
        root: the dataset root the paths are relative to.
        namer: a ``FrameNamer``.
        labels_required: whether a line without a label is a problem (train and val).
        check_files: whether to check that every image and label file exists.

    Returns:
        (frames, problems): the valid frames in file order and one ``file:line: message`` string
        per invalid line.

    Raises:
        ValueError: if the list file is missing or has no lines (nothing to skip to).
    """
    if not os.path.isfile(list_path):
        raise ValueError(f"{list_path}: list file not found")
    frames, problems, first_line_of = [], [], {}
    with open(list_path) as handle:
        lines = handle.read().splitlines()
    for number, line in enumerate(lines, start=1):
        where = f"{list_path}:{number}"
        fields = line.split()
        if not fields:
            continue
        if len(fields) > 2:
            problems.append(f"{where}: expected 'image_path label_path', got {len(fields)} fields")
            continue
        image, label = fields[0], (fields[1] if len(fields) == 2 else None)
        if label is None and labels_required:
            problems.append(f"{where}: no label path after {image!r}")
            continue
        if image in first_line_of:
            problems.append(f"{where}: duplicate of line {first_line_of[image]} ({image})")
            continue
        first_line_of[image] = number
        missing = [path for path in (image, label)
                   if check_files and path is not None and not os.path.isfile(os.path.join(root, path))]
        if missing:
            problems.append(f"{where}: file not found: {os.path.join(root, missing[0])}")
            continue
        try:
            video, camera, key = namer(image)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        frames.append(Frame(where, image, label, video, camera, key))
    if not frames and not problems:
        raise ValueError(f"{list_path}: list file is empty")
    return frames, problems


def drop_repeated_frames(frames):
    """Remove frames whose (video, camera, frame key) repeats an earlier line.

    Returns:
        (kept, problems): the remaining frames in file order and one problem per dropped line.
    """
    kept, problems, first = [], [], {}
    for frame in frames:
        identity = (frame.video_id, frame.camera_id, frame.sort_key)
        if identity in first:
            problems.append(f"{frame.where}: same frame of video {frame.video_id!r} as {first[identity]}")
            continue
        first[identity] = frame.where
        kept.append(frame)
    return kept, problems


def group_streams(frames):
    """Map (video_id, camera_id) to the positions of its frames in ``frames``, in frame order."""
    streams = {}
    for position, frame in enumerate(frames):
        streams.setdefault((frame.video_id, frame.camera_id), []).append(position)
    for positions in streams.values():
        positions.sort(key=lambda position: frames[position].sort_key)
    return streams


def split_leaks(splits):
    """{video_id: {split: the video's first frame there}} for every video in more than one split.

    Args:
        splits (dict): split name -> frames of its list file.
    """
    owners = {}
    for split, frames in splits.items():
        for frame in frames:
            owners.setdefault(frame.video_id, {}).setdefault(split, frame)
    return {video: found for video, found in sorted(owners.items()) if len(found) > 1}
