"""VideoPortraitDataset: paddleseg-compatible items, video awareness, temporal pairs, labels."""
import os
import random

import cv2
import numpy as np
import paddle
import paddleseg.transforms as T
import pytest
from paddleseg.cvlibs import Config, SegBuilder, manager

from pphumanseg.datasets import VideoPortraitDataset

from dataset_lists import read_list, write_list


def test_items_match_paddleseg_datasets_in_every_mode(dataset_root):
    for mode, label_shape in (("train", (36, 64)), ("val", (1, 36, 64)), ("test", (36, 64))):
        dataset = VideoPortraitDataset(str(dataset_root), [T.Normalize()], mode=mode)
        item = dataset[0]
        assert item["img"].shape == (3, 36, 64) and item["img"].dtype == np.float32
        assert item["label"].shape == label_shape
        assert set(np.unique(item["label"])) <= {0, 1}
        assert item["gt_fields"] == ([] if mode == "val" else ["label"])
        assert item["trans_info"] == []
        assert item["img_path"] == dataset.file_list[0][0] and os.path.isfile(item["label_path"])
        assert item["video_id"].startswith("images/video_") and item["frame_index"] == 0
    assert (dataset.NUM_CLASSES, dataset.IGNORE_INDEX, dataset.IMG_CHANNELS) == (2, 255, 3)
    assert dataset.num_classes == 2 and dataset.ignore_index == 255


def test_dataloader_batches_items(dataset_root):
    dataset = VideoPortraitDataset(str(dataset_root), [T.Normalize()], mode="val")
    batch = next(iter(paddle.io.DataLoader(dataset, batch_size=2, return_list=True)))
    assert batch["img"].shape == [2, 3, 36, 64] and batch["label"].shape == [2, 1, 36, 64]
    assert len(batch["video_id"]) == 2


def test_paddleseg_config_builds_it_by_type(dataset_root, tmp_path):
    config = tmp_path / "config.yml"
    config.write_text(
        "batch_size: 2\niters: 1\n"
        f"train_dataset: {{type: VideoPortraitDataset, dataset_root: {dataset_root}, mode: train, "
        "transforms: [{type: Normalize}]}\n"
        "model: {type: PPHumanSegLite, num_classes: 2}\n"
        "loss: {types: [{type: CrossEntropyLoss}], coef: [1]}\n"
        "optimizer: {type: SGD}\nlr_scheduler: {type: PolynomialDecay, learning_rate: 0.01}\n")
    assert "VideoPortraitDataset" in manager.DATASETS.components_dict
    dataset = SegBuilder(Config(str(config))).train_dataset
    assert isinstance(dataset, VideoPortraitDataset) and len(dataset) == 6


def test_videos_are_ordered_by_natural_sort_and_paired_within_videos(dataset_root):
    lines = read_list(dataset_root, "train")
    clips = sorted({line.split()[0].split("/")[1] for line in lines})
    renamed = []
    for line in lines:
        image, label = line.split()
        number = int(os.path.basename(image).split(".")[0])
        new_image = os.path.join(os.path.dirname(image), f"frame{[10, 2, 1][number]}.jpg")
        os.rename(dataset_root / image, dataset_root / new_image)
        renamed.append(f"{new_image} {label}")
    write_list(dataset_root, "train", renamed[::-1])
    dataset = VideoPortraitDataset(str(dataset_root), [], mode="train")
    assert sorted(dataset.videos) == [f"images/{clip}" for clip in clips]
    for video, indices in dataset.videos.items():
        names = [os.path.basename(dataset.file_list[index][0]) for index in indices]
        assert names == ["frame1.jpg", "frame2.jpg", "frame10.jpg"]
        assert [dataset.frame_index[index] for index in indices] == [0, 1, 2]
    pairs = dataset.consecutive_pairs()
    assert len(pairs) == 4
    for first, second in pairs:
        assert dataset.frames[first].video_id == dataset.frames[second].video_id
        assert dataset.frame_index[second] == dataset.frame_index[first] + 1


def test_video_regex_sets_video_frame_and_camera(dataset_root):
    lines = []
    for line in read_list(dataset_root, "train"):
        image, label = line.split()
        video, name = image.split("/")[1:]
        frame = int(name.split(".")[0])
        for camera in ("a", "b"):
            flat = f"flat/{video}_cam{camera}_f{frame * 5}.jpg"
            os.makedirs(dataset_root / "flat", exist_ok=True)
            os.link(dataset_root / image, dataset_root / flat)
            lines.append(f"{flat} {label}")
    write_list(dataset_root, "train", lines)
    regex = r"(?P<video>video_\d+)_cam(?P<camera>\w)_f(?P<frame>\d+)"
    dataset = VideoPortraitDataset(str(dataset_root), [], mode="train", video_regex=regex)
    assert len(dataset.videos) == 2 and all(len(indices) == 6 for indices in dataset.videos.values())
    assert len(dataset.streams) == 4
    pairs = dataset.consecutive_pairs()
    assert len(pairs) == 4 * 2
    for first, second in pairs:
        assert dataset.frames[first].camera_id == dataset.frames[second].camera_id
    item = dataset[pairs[0][1]]
    assert item["camera_id"] in ("a", "b") and item["video_id"].startswith("video_")
    with pytest.raises(ValueError, match="named group"):
        VideoPortraitDataset(str(dataset_root), [], video_regex=r"(?P<clip>\d+)")


def test_temporal_mode_gives_pairs_with_the_same_random_augmentation(dataset_root):
    flip = [T.RandomHorizontalFlip(prob=0.5)]
    plain = VideoPortraitDataset(str(dataset_root), [], mode="train")
    temporal = VideoPortraitDataset(str(dataset_root), flip, mode="train", temporal=True)
    assert len(temporal) == len(plain.consecutive_pairs()) == 4
    random.seed(0)
    flipped = []
    for _ in range(6):
        for index, (first, second) in enumerate(temporal.consecutive_pairs()):
            item_first, item_second = temporal[index]
            states = []
            for item, frame in ((item_first, first), (item_second, second)):
                original = plain[frame]["label"]
                assert np.array_equal(item["label"], original) or np.array_equal(item["label"], original[:, ::-1])
                states.append(np.array_equal(item["label"], original[:, ::-1]) and
                              not np.array_equal(original, original[:, ::-1]))
            assert states[0] == states[1]
            flipped.append(states[0])
    assert any(flipped) and not all(flipped)


def test_foreground_value_255_is_mapped_to_1(dataset_root):
    for line in read_list(dataset_root, "val"):
        path = str(dataset_root / line.split()[1])
        cv2.imwrite(path, cv2.imread(path, cv2.IMREAD_UNCHANGED) * 255)
    dataset = VideoPortraitDataset(str(dataset_root), [], mode="val", foreground_value=255)
    assert set(np.unique(dataset[0]["label"])) == {0, 1}
    with pytest.raises(ValueError, match=r"val.txt:1: .*unexpected values \[255\]"):
        VideoPortraitDataset(str(dataset_root), [], mode="val", foreground_value=1, ignore_index=254)[0]


def test_test_lines_without_labels(dataset_root):
    write_list(dataset_root, "test", [line.split()[0] for line in read_list(dataset_root, "test")])
    item = VideoPortraitDataset(str(dataset_root), [T.Normalize()], mode="test")[0]
    assert "label" not in item and item["label_path"] == "" and item["img"].shape == (3, 36, 64)
