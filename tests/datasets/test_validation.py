"""Every bad input is refused with a message naming file:line, or skipped and counted."""
import os
import re

import cv2
import numpy as np
import pytest

from pphumanseg.cli.main import main
from pphumanseg.datasets import VideoPortraitDataset
from pphumanseg.datasets.report import dataset_statistics, validate_dataset

from dataset_lists import read_list, write_list


def build(root, mode="train", **kwargs):
    return VideoPortraitDataset(str(root), [], mode=mode, **kwargs)


def test_missing_root_list_file_and_empty_list(dataset_root, tmp_path):
    with pytest.raises(ValueError, match="is not a directory"):
        build(tmp_path / "nowhere")
    os.remove(dataset_root / "val.txt")
    with pytest.raises(ValueError, match=r"val\.txt: list file not found"):
        build(dataset_root, mode="val")
    write_list(dataset_root, "test", ["", "   "])
    with pytest.raises(ValueError, match=r"test\.txt: list file is empty"):
        build(dataset_root, mode="test")


@pytest.mark.parametrize("corrupt, message", [
    (lambda lines: lines[:1] + [lines[1] + " extra"] + lines[2:], r"train\.txt:2: expected 'image_path label_path', got 3"),
    (lambda lines: lines[:1] + [lines[1].split()[0]] + lines[2:], r"train\.txt:2: no label path"),
    (lambda lines: lines + [lines[0]], r"train\.txt:7: duplicate of line 1"),
    (lambda lines: lines[:2] + ["images/video_0009/000000.jpg " + lines[2].split()[1]] + lines[3:],
     r"train\.txt:3: file not found: .*video_0009/000000\.jpg"),
])
def test_bad_lines_name_file_and_line_or_are_skipped(dataset_root, corrupt, message):
    write_list(dataset_root, "train", corrupt(read_list(dataset_root, "train")))
    with pytest.raises(ValueError, match=message):
        build(dataset_root)
    dataset = build(dataset_root, skip_invalid=True)
    assert len(dataset.skipped) == 1 and re.search(message, dataset.skipped[0])
    assert len(dataset) == 5 + (1 if "duplicate" in message else 0)


def test_repeated_frame_of_a_video_is_refused(dataset_root):
    lines = read_list(dataset_root, "train")
    image, label = lines[0].split()
    os.link(dataset_root / image, dataset_root / image.replace("000000", "0"))
    write_list(dataset_root, "train", lines + [f"{image.replace('000000', '0')} {label}"])
    with pytest.raises(ValueError, match=r"train\.txt:7: same frame of video .* as .*train\.txt:1"):
        build(dataset_root)


def test_video_in_two_splits_is_leakage(dataset_root):
    write_list(dataset_root, "val", read_list(dataset_root, "val") + read_list(dataset_root, "train")[:1])
    with pytest.raises(ValueError, match=r"train\.txt:1: video 'images/video_\d+' is also in .*val\.txt:4 \(split leakage\)"):
        build(dataset_root)
    dataset = build(dataset_root, skip_invalid=True)
    assert len(dataset) == 3 and len(dataset.skipped) == 3
    assert list(dataset_statistics(str(dataset_root))["leaks"].values()) == [["train", "val"]]


def test_video_regex_that_does_not_match_names_the_line(dataset_root):
    with pytest.raises(ValueError, match=r"train\.txt:1: video_regex .* does not match"):
        build(dataset_root, video_regex=r"(?P<video>clip\d+)")


def corrupt_first_frame(root, how):
    image, label = (root / path for path in read_list(root, "train")[0].split())
    if how == "unreadable image":
        image.write_bytes(b"not a jpeg")
    elif how == "size mismatch":
        cv2.imwrite(str(label), np.zeros((10, 12), np.uint8))
    elif how == "unexpected values":
        values = cv2.imread(str(label), cv2.IMREAD_UNCHANGED)
        values[0, :5] = 7
        cv2.imwrite(str(label), values)
    elif how == "three-channel label":
        cv2.imwrite(str(label), np.zeros((36, 64, 3), np.uint8))
    elif how == "unreadable label":
        label.write_bytes(b"\x89PNG broken")


@pytest.mark.parametrize("how, message", [
    ("unreadable image", r"train\.txt:1: cannot read image .*000000\.jpg"),
    ("size mismatch", r"train\.txt:1: label size 12x10 differs from image size 64x36"),
    ("unexpected values", r"train\.txt:1: label .* has unexpected values \[7\]"),
    ("three-channel label", r"train\.txt:1: label .* has shape \(36, 64, 3\), expected one channel"),
    ("unreadable label", r"train\.txt:1: cannot read label"),
])
def test_decoding_problems_are_found_lazily_and_by_validate(dataset_root, how, message):
    corrupt_first_frame(dataset_root, how)
    dataset = build(dataset_root)
    dataset[1]
    with pytest.raises(ValueError, match=message):
        dataset[0]
    with pytest.raises(ValueError, match=message):
        dataset.validate()
    skipping = build(dataset_root, skip_invalid=True)
    assert len(skipping) == 6
    problems = skipping.validate()
    assert len(problems) == 1 and re.search(message, problems[0]) and len(skipping) == 5
    assert re.search(message, validate_dataset(str(dataset_root))[0])


def test_bad_options_are_refused(dataset_root):
    for options, message in (({"mode": "eval"}, "mode must be"), ({"num_classes": 3}, "num_classes must be 2"),
                             ({"foreground_value": 2}, "foreground_value must be 1 or 255"),
                             ({"ignore_index": 1}, "ignore_index")):
        with pytest.raises(ValueError, match=message):
            VideoPortraitDataset(str(dataset_root), [], **options)


def test_data_commands_report_statistics_and_problems(dataset_root, capsys):
    assert main(["data", "validate", "--root", str(dataset_root)]) == 0
    assert "0 problems" in capsys.readouterr().out
    statistics = dataset_statistics(str(dataset_root))
    assert statistics["splits"]["train"]["videos"] == 2 and statistics["splits"]["train"]["frames"] == 6
    ratio = statistics["splits"]["val"]["foreground_ratio"]
    labels = [cv2.imread(str(dataset_root / line.split()[1]), cv2.IMREAD_UNCHANGED)
              for line in read_list(dataset_root, "val")]
    assert ratio == pytest.approx(np.mean([label.mean() for label in labels]))
    assert main(["data", "stats", "--root", str(dataset_root)]) == 0
    assert re.search(r"val\s+1\s+3\s+3\s+0\.\d{3}", capsys.readouterr().out)
    corrupt_first_frame(dataset_root, "unexpected values")
    write_list(dataset_root, "val", read_list(dataset_root, "val") + read_list(dataset_root, "test")[:1])
    assert main(["data", "validate", "--root", str(dataset_root)]) == 1
    output = capsys.readouterr().out
    assert "unexpected values [7]" in output and "is in several splits: val, test" in output
    assert "2 problems" in output
    assert main(["data", "stats", "--root", str(dataset_root)]) == 1
    assert "LEAK: video" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        main(["data", "stats", "--root", str(dataset_root / "missing")])
    assert stop.value.code == 2


def test_an_empty_other_split_does_not_block_this_one(dataset_root):
    write_list(dataset_root, "test", [])
    assert len(build(dataset_root)) == 6
    assert any("test.txt: list file is empty" in problem for problem in validate_dataset(str(dataset_root)))
