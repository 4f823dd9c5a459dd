"""FlowSmoother on a generated teleconference clip with exact masks.

The per-frame "prediction" is the true mask, softened, plus noise drawn afresh for every frame
(a spatially smooth random field, like a network's errors): exactly the frame-to-frame flicker
the smoother is for. On each of two clips it must cut the flicker rate (pphumanseg.metrics.temporal)
by at least a fifth without lowering mIoU by more than 0.5 point.
"""
import cv2
import numpy as np
import pytest

from pphumanseg.metrics.temporal import TemporalStability
from pphumanseg.synth import render_clip
from pphumanseg_deploy.flow import FlowSmoother

SIZE = (160, 96)
FRAMES = 24


def noisy_probabilities(masks, seed):
    rng = np.random.default_rng(seed)
    for mask in masks:
        soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.5)
        noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, mask.shape).astype(np.float32), (0, 0), 2.0)
        noise *= 0.15 / noise.std()
        yield np.clip(soft + noise, 0.0, 1.0)


def miou(predictions, masks):
    ious = []
    for cls in (0, 1):
        inter = sum(np.count_nonzero((p == cls) & (m == cls)) for p, m in zip(predictions, masks))
        union = sum(np.count_nonzero((p == cls) | (m == cls)) for p, m in zip(predictions, masks))
        ious.append(inter / union)
    return 100.0 * float(np.mean(ious))


def flicker_rate(predictions, masks):
    metric = TemporalStability()
    for t in range(len(masks) - 1):
        metric.update(predictions[t], predictions[t + 1], masks[t], masks[t + 1])
    return metric.result()["flicker_rate"]


@pytest.mark.parametrize("seed", [3, 4])
def test_flow_smoothing_cuts_flicker_without_losing_accuracy(seed):
    frames, masks = zip(*render_clip(size=SIZE, frames=FRAMES, seed=seed))
    probabilities = list(noisy_probabilities(masks, seed=0))
    smoother = FlowSmoother()
    smoothed = [smoother(frame, probability) for frame, probability in zip(frames, probabilities)]
    raw_pred = [(p > 0.5).astype(np.uint8) for p in probabilities]
    smooth_pred = [(p > 0.5).astype(np.uint8) for p in smoothed]
    raw_flicker, smooth_flicker = flicker_rate(raw_pred, masks), flicker_rate(smooth_pred, masks)
    raw_miou, smooth_miou = miou(raw_pred, masks), miou(smooth_pred, masks)
    print(f"flicker {raw_flicker:.4f} -> {smooth_flicker:.4f}; mIoU {raw_miou:.2f} -> {smooth_miou:.2f}")
    assert raw_flicker > 0.005  # the test clip does flicker
    assert smooth_flicker < raw_flicker * 0.8
    assert smooth_miou >= raw_miou - 0.5
    assert all(np.isfinite(p).all() and p.min() >= 0 and p.max() <= 1 for p in smoothed)


def test_forward_backward_check_rejects_occlusions():
    rng = np.random.default_rng(1)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (96, 160), dtype=np.uint8), (0, 0), 1.0)
    previous = cv2.cvtColor(texture, cv2.COLOR_GRAY2BGR)
    current = np.roll(previous, 3, axis=1)  # the scene pans 3 px to the right ...
    current[30:60, 60:100] = 255 - current[30:60, 60:100]  # ... and something new appears
    smoother = FlowSmoother()
    gray = lambda image: cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)  # noqa: E731
    source, tracked, _ = smoother.track(gray(current), gray(previous), np.zeros((96, 160), np.float32))
    map_x = source[..., 0]
    background = np.zeros(tracked.shape, bool)
    background[10:86, 10:150] = True
    background[25:65, 55:105] = False
    assert tracked[background].mean() > 0.9
    assert np.median(map_x[background] - np.arange(160)[None].repeat(96, 0)[background]) == pytest.approx(-3, abs=0.5)
    assert tracked[35:55, 65:95].mean() < 0.5


@pytest.mark.parametrize("low, high", [(25, 230), (0.6, 0.9), (0.1, 0.4)])
def test_certainty_thresholds_are_probabilities(low, high):
    with pytest.raises(ValueError, match="probability scale"):
        FlowSmoother(certain_low=low, certain_high=high)
