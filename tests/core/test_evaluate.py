import numpy as np
import paddle
import pytest

from pphumanseg.core.evaluate import InferenceAugmentation, evaluate, json_safe
from pphumanseg.metrics.temporal import TemporalStability
from pphumanseg.utils.errors import UsageError


class ThresholdModel(paddle.nn.Layer):
    """Predicts class 1 where the first input channel is positive."""

    def forward(self, x):
        return [paddle.concat([-x[:, :1], x[:, :1]], axis=1) * 10]


class TwoFrameVideos(paddle.io.Dataset):
    """Two videos of two frames; image channel 0 is +1 where the 'model' should say person."""

    def __init__(self, labels, predicted):
        super().__init__()
        self.labels, self.predicted = labels, predicted

    def consecutive_pairs(self):
        return [(0, 1), (2, 3)]

    def __getitem__(self, index):
        image = np.repeat(np.where(self.predicted[index] == 1, 1.0, -1.0)[None], 3, 0).astype("float32")
        return {"img": image, "label": self.labels[index][None].astype("int64"), "trans_info": []}

    def __len__(self):
        return len(self.labels)


def test_metrics_match_a_direct_computation_on_known_predictions():
    rng = np.random.RandomState(0)
    labels = rng.randint(0, 2, (4, 6, 8))
    labels[1, 0, :3] = 255
    predicted = labels.copy()
    predicted[labels == 255] = 0
    flips = rng.rand(4, 6, 8) < 0.2
    predicted[flips] = 1 - predicted[flips]
    results = evaluate(ThresholdModel(), TwoFrameVideos(labels, predicted), num_classes=2)

    valid = labels != 255
    ious = []
    for c in range(2):
        inter = np.sum((predicted == c) & (labels == c) & valid)
        union = np.sum(((predicted == c) | (labels == c)) & valid)
        ious.append(inter / union)
    assert results["class_iou"] == pytest.approx(ious)
    assert results["miou"] == pytest.approx(np.mean(ious))
    assert results["acc"] == pytest.approx(np.mean(predicted[valid] == labels[valid]))
    temporal = TemporalStability()
    for a, b in [(0, 1), (2, 3)]:
        temporal.update(predicted[a], predicted[b], labels[a], labels[b])
    assert results["flicker_rate"] == pytest.approx(temporal.result()["flicker_rate"])
    assert 0 < results["flicker_rate"] < 1 and 0 <= results["sc"] <= 1
    assert results["images"] == 4


def test_perfect_predictions_and_flip_augmentation():
    labels = np.zeros((4, 6, 8), np.int64)
    labels[:, 2:5, 2:6] = 1
    dataset = TwoFrameVideos(labels, labels)
    plain = evaluate(ThresholdModel(), dataset, 2)
    assert plain["miou"] == 1.0 and plain["kappa"] == pytest.approx(1.0) and plain["sc"] == 1.0
    assert plain["temporal_stability"] == 1.0
    flipped = evaluate(ThresholdModel(), dataset, 2,
                       augmentation=InferenceAugmentation(scales=[1.0], flip_horizontal=True))
    assert flipped["miou"] == 1.0


def test_test_config_keys_follow_paddleseg():
    assert not InferenceAugmentation.from_test_config({"flip_horizontal": True}).augmented  # needs aug_eval
    augmentation = InferenceAugmentation.from_test_config({"aug_eval": True, "scales": [0.5, 1.0]})
    assert augmentation.augmented and augmentation.scales == [0.5, 1.0]
    with pytest.raises(UsageError, match="test_config.flip: unknown key"):
        InferenceAugmentation.from_test_config({"flip": True})


def test_json_safe_turns_nan_into_null():
    assert json_safe({"a": float("nan"), "b": [1.0, float("nan")], "c": 2}) == {"a": None, "b": [1.0, None], "c": 2}
