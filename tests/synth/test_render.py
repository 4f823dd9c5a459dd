"""The generator renders deterministic, temporally smooth frames whose masks match the drawing."""
import cv2
import numpy as np
import pytest

from pphumanseg.synth import PRESETS, Scene, get_preset, render_clip
from pphumanseg.synth.canvas import Canvas


def clip(**kwargs):
    return list(render_clip(**kwargs))


def test_same_arguments_give_identical_frames_and_other_seeds_differ():
    first = clip(size=(120, 68), frames=4, seed=5)
    again = clip(size=(120, 68), frames=4, seed=5)
    other = clip(size=(120, 68), frames=4, seed=6)
    for (image, mask), (image2, mask2) in zip(first, again):
        assert np.array_equal(image, image2) and np.array_equal(mask, mask2)
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(first, other))


@pytest.mark.parametrize("size", [(64, 36), (160, 90), (331, 201)])
def test_any_size_gives_bgr_frames_and_binary_masks(size):
    for image, mask in clip(size=size, frames=2, seed=1, preset="connectivity-hard"):
        assert image.shape == (size[1], size[0], 3) and image.dtype == np.uint8
        assert mask.shape == (size[1], size[0]) and mask.dtype == np.uint8
        assert set(np.unique(mask)) <= {0, 1}
        assert 0.02 < mask.mean() < 0.9


def test_mask_is_the_drawn_silhouette():
    """Without camera effects, drawing people changes the room exactly where the mask says, up to
    the anti-aliased fringe of the outline: at most 2 pixels wide, faint beyond the first pixel.
    (At the frame border a shape just outside can tint the last pixel row; that row is skipped.)"""
    for seed in range(5):
        scene = Scene((200, 112), 10, np.random.default_rng(seed), get_preset("connectivity-hard"))
        for t in (0, 9):
            image = scene.room.image.copy()
            mask = np.zeros(image.shape[:2], np.uint8)
            canvas = Canvas(image, mask)
            for person in scene.people:
                person.draw(canvas, t)
            inner = (slice(1, -1), slice(1, -1))
            changed = np.any(image != scene.room.image, axis=2)[inner]
            fringe = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))[inner]
            assert not np.any(changed & (fringe == 0))
            beyond_first = changed & (cv2.dilate(mask, np.ones((3, 3), np.uint8))[inner] == 0)
            assert beyond_first.sum() <= 0.005 * mask.sum()
            difference = np.abs(image.astype(int) - scene.room.image).max(axis=2)[inner]
            assert np.all(difference[beyond_first] < 64)
            assert changed[mask[inner] == 1].mean() > 0.97


def test_motion_is_smooth_between_consecutive_frames():
    frames = clip(size=(160, 90), frames=12, seed=2, preset="easy")
    for (_, mask), (_, following) in zip(frames[:-1], frames[1:]):
        union = np.logical_or(mask, following).sum()
        assert np.logical_and(mask, following).sum() / union > 0.8


def components(mask):
    return cv2.connectedComponents(mask, connectivity=8)[0] - 1


def test_connectivity_hard_preset_splits_people_into_more_pieces():
    def mean_components(preset):
        counts = [components(mask) for seed in range(8)
                  for _, mask in clip(size=(160, 90), frames=6, seed=seed, preset=preset)]
        return np.mean(counts)

    assert mean_components("connectivity-hard") > mean_components("easy") + 0.3


def test_unknown_preset_and_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="connectivity-hard"):
        render_clip(preset="nope")
    with pytest.raises(ValueError, match="at least 1"):
        render_clip(frames=0)
    with pytest.raises(ValueError, match="too small"):
        render_clip(size=(8, 8), frames=1)
    assert {"easy", "default", "connectivity-hard"} <= set(PRESETS)
