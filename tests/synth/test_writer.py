"""Dataset and clip writing: layout, splits by video, byte-identical output, the CLI."""
import filecmp
import json
import os

import cv2
import numpy as np
import pytest

from pphumanseg.cli.main import main
from pphumanseg.synth import render_clip, split_videos, write_clip, write_dataset


def list_lines(root, split):
    with open(os.path.join(root, f"{split}.txt")) as handle:
        return handle.read().splitlines()


def test_dataset_layout_and_splits_by_video(tmp_path):
    counts = write_dataset(str(tmp_path), videos=5, frames=3, size=(96, 54), seed=1)
    assert counts == {"train": 9, "val": 3, "test": 3}
    videos = {}
    for split in ("train", "val", "test"):
        for line in list_lines(tmp_path, split):
            image, label = line.split()
            assert cv2.imread(str(tmp_path / image)).shape == (54, 96, 3)
            values = np.unique(cv2.imread(str(tmp_path / label), cv2.IMREAD_UNCHANGED))
            assert set(values) <= {0, 1}
            videos.setdefault(os.path.dirname(image), set()).add(split)
    assert len(videos) == 5 and all(len(splits) == 1 for splits in videos.values())
    assert json.loads((tmp_path / "synth.json").read_text())["foreground_value"] == 1
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".partial.")]


def test_same_arguments_write_byte_identical_files(tmp_path):
    for name in ("a", "b"):
        write_dataset(str(tmp_path / name), videos=3, frames=2, size=(80, 48), seed=7, preset="connectivity-hard")
    comparison = filecmp.dircmp(tmp_path / "a", tmp_path / "b")
    pending = [comparison]
    compared = 0
    while pending:
        current = pending.pop()
        assert not current.left_only and not current.right_only
        match, mismatch, errors = filecmp.cmpfiles(current.left, current.right, current.common_files,
                                                   shallow=False)
        assert not mismatch and not errors
        compared += len(match)
        pending.extend(current.subdirs.values())
    assert compared == 3 * 2 * 2 + 4


def test_video_depends_only_on_its_index(tmp_path):
    write_dataset(str(tmp_path / "small"), videos=3, frames=2, size=(64, 36), seed=3)
    write_dataset(str(tmp_path / "large"), videos=4, frames=2, size=(64, 36), seed=3)
    path = "labels/video_0002/000001.png"
    assert filecmp.cmp(tmp_path / "small" / path, tmp_path / "large" / path, shallow=False)


def test_split_videos_needs_three_videos_and_positive_fractions():
    assignment = split_videos(10, (0.6, 0.2, 0.2), seed=0)
    assert sorted(sum(assignment.values(), [])) == list(range(10))
    assert [len(assignment[name]) for name in ("train", "val", "test")] == [6, 2, 2]
    with pytest.raises(ValueError, match="at least 3 videos"):
        split_videos(2, (0.6, 0.2, 0.2), seed=0)
    with pytest.raises(ValueError, match="positive"):
        split_videos(5, (1, 0, 0), seed=0)


def test_write_clip_writes_a_playable_mp4_and_masks(tmp_path):
    path = str(tmp_path / "call.mp4")
    masks = write_clip(path, size=(128, 72), frames=5, seed=2, mask_dir=str(tmp_path / "masks"))
    capture = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    assert len(frames) == 5 and frames[0].shape == (72, 128, 3)
    assert masks.shape == (5, 72, 128) and set(np.unique(masks)) <= {0, 1}
    stored = cv2.imread(str(tmp_path / "masks" / "000004.png"), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(stored, masks[4])


def test_cli_writes_a_dataset_and_rejects_bad_flags(tmp_path, capsys):
    out = str(tmp_path / "data")
    assert main(["synth", "--out", out, "--videos", "3", "--frames", "2", "--size", "64x36"]) == 0
    assert len(list_lines(out, "train")) == 2
    for flags, message in ((["--size", "64"], "WIDTHxHEIGHT"), (["--videos", "2"], "at least 3 videos")):
        with pytest.raises(SystemExit) as stop:
            main(["synth", "--out", out] + flags)
        assert stop.value.code == 2
        assert message in capsys.readouterr().err


@pytest.mark.parametrize("image_format", ["jpg", "png"])
def test_written_frames_are_the_rendered_frames(tmp_path, image_format):
    write_dataset(str(tmp_path), videos=3, frames=2, size=(96, 54), seed=4, image_format=image_format)
    frames = list(render_clip((96, 54), 2, seed=(4, 1)))
    for t, (image, mask) in enumerate(frames):
        stored = cv2.imread(str(tmp_path / f"images/video_0001/{t:06d}.{image_format}"))
        assert np.array_equal(stored, image)
        assert np.array_equal(cv2.imread(str(tmp_path / f"labels/video_0001/{t:06d}.png"), cv2.IMREAD_UNCHANGED), mask)


def test_preview_contact_sheet_shows_frames_beside_masks(tmp_path):
    out, sheet = str(tmp_path / "data"), tmp_path / "sheet.png"
    assert main(["synth", "--out", out, "--videos", "3", "--frames", "2", "--size", "64x36",
                 "--preview", str(sheet)]) == 0
    image = cv2.imread(str(sheet))
    assert image.shape == (2 * 36, 2 * 2 * 64, 3)
    frame = cv2.imread(os.path.join(out, "images/video_0000/000001.jpg"))
    assert np.array_equal(image[:36, :64], frame)
    assert not image[36:, 128:].any()


def test_cli_writes_one_clip_with_masks(tmp_path):
    clip_path, masks = tmp_path / "demo.mp4", tmp_path / "masks"
    assert main(["synth", "--clip", str(clip_path), "--size", "96x54", "--frames", "3",
                 "--mask_dir", str(masks)]) == 0
    assert cv2.VideoCapture(str(clip_path)).get(cv2.CAP_PROP_FRAME_COUNT) == 3
    assert sorted(os.listdir(masks)) == ["000000.png", "000001.png", "000002.png"]
    expected = [mask for _, mask in render_clip((96, 54), 3, seed=0)]
    assert np.array_equal(cv2.imread(str(masks / "000002.png"), cv2.IMREAD_UNCHANGED), expected[2])
