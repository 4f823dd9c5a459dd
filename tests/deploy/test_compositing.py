"""Compositing on 8-bit alphas, the 8-bit alpha itself and the blur background from the preview."""
import cv2
import numpy as np
import pytest

from pphumanseg.synth import render_clip
from pphumanseg_deploy.compositing import BlurBackground, alpha_image, composite


@pytest.fixture(scope="module")
def frame():
    return next(iter(render_clip(size=(640, 360), frames=1, seed=7)))[0]


def test_composite_is_within_one_level_of_the_exact_blend(frame):
    rng = np.random.default_rng(0)
    background = rng.integers(0, 256, frame.shape, dtype=np.uint8)
    alpha = rng.integers(0, 256, frame.shape[:2], dtype=np.uint8)
    alpha[:40], alpha[-40:] = 0, 255
    weight = alpha[..., None] / 255.0
    exact = weight * frame + (1.0 - weight) * background
    result = composite(frame, alpha, background)
    assert result.dtype == np.uint8 and result.shape == frame.shape
    assert np.abs(result - exact).max() <= 1.0
    assert np.array_equal(result[:40], background[:40]) and np.array_equal(result[-40:], frame[-40:])


def test_alpha_image_is_the_upsampled_probability_in_eight_bits():
    rng = np.random.default_rng(1)
    probability = cv2.GaussianBlur(rng.random((56, 100), dtype=np.float32), (0, 0), 2.0)
    probability = np.clip((probability - probability.mean()) * 8 + 0.5, 0, 1).astype(np.float32)
    alpha = alpha_image(probability, 320, 180)
    exact = cv2.resize(probability, (320, 180), interpolation=cv2.INTER_LINEAR) * 255.0
    assert alpha.dtype == np.uint8 and alpha.shape == (180, 320)
    assert np.abs(alpha - exact).max() <= 1.5  # rounded at the low resolution and by the 8-bit resize
    assert alpha.min() == 0 and alpha.max() == 255


def test_blur_background_from_the_preview_matches_blurring_the_frame(frame):
    height, width = frame.shape[:2]
    preview = cv2.resize(frame, (398, 224), interpolation=cv2.INTER_LINEAR)  # as the network sees it
    blurred = BlurBackground()(frame, preview)
    # The reference: the full frame scaled to 1/8 by pixel area, sigma 3 there, scaled back.
    small = cv2.resize(frame, (width // 8, height // 8), interpolation=cv2.INTER_AREA)
    reference = cv2.resize(cv2.GaussianBlur(small, (0, 0), 3.0), (width, height), interpolation=cv2.INTER_LINEAR)
    assert blurred.shape == frame.shape and blurred.dtype == np.uint8
    difference = np.abs(blurred.astype(int) - reference)
    print(f"mean {difference.mean():.2f}, 99th percentile {np.percentile(difference, 99):.0f} levels")
    assert difference.mean() < 1.5 and np.percentile(difference, 99) <= 6
