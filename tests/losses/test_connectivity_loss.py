"""SCLoss: exact values on hand-built cases, agreement with paddleseg's SemanticConnectivityLoss
where that is correct, gradients (finite differences, training), config use and bad input."""
import importlib

import cv2
import numpy as np
import paddle
import pytest
import yaml

import pphumanseg  # noqa: F401  (registrations)
from paddleseg.cvlibs import Config, SegBuilder
from paddleseg.models.losses import SemanticConnectivityLoss
from pphumanseg.losses import SCLoss
from pphumanseg.utils.paddle3_compat import cross_entropy_on_paddle3

ppseg_train = importlib.import_module("paddleseg.core.train")

MARGIN = 20.0  # softmax of +-MARGIN logits is 0/1 to float32 precision


def paint(shape, *boxes, value=1, base=0):
    """An int64 map of ``base`` with each inclusive (top, bottom, left, right) box set to value."""
    image = np.full(shape, base, dtype=np.int64)
    for top, bottom, left, right in boxes:
        image[top:bottom + 1, left:right + 1] = value
    return image


def hard_logits(pred, num_classes=2):
    """[1, C, H, W] float64 logits whose softmax is (numerically) one-hot at ``pred``."""
    one_hot = np.eye(num_classes)[pred].transpose(2, 0, 1)
    return (one_hot * 2 - 1)[None] * MARGIN


def sc_loss(logits, label, **kwargs):
    label = np.asarray(label)
    if label.ndim == 2:
        label = label[None]
    return float(SCLoss(**kwargs)(paddle.to_tensor(logits), paddle.to_tensor(label)))


# (pred, label, expected foreground loss 1 - SC) for hand-built hard predictions.
HAND_BUILT = {
    "several_blobs": (paint((12, 12), (1, 4, 2, 5), (8, 10, 8, 10)),
                      paint((12, 12), (1, 4, 1, 4), (8, 10, 8, 10)), 1 - (12 / 20 + 1) / 2),
    "lone_predictions": (paint((12, 12), (1, 4, 1, 4), (8, 9, 8, 9), (10, 11, 1, 2)),
                         paint((12, 12), (1, 4, 1, 4)), 1 - 1 / 3),
    "split_person": (paint((12, 12), (2, 9, 2, 4), (2, 9, 6, 9)),
                     paint((12, 12), (2, 9, 2, 9)), 1 - (24 / 64 + 32 / 64) / 2),
    "merged_pair": (paint((8, 11), (2, 5, 2, 8)),
                    paint((8, 11), (2, 5, 2, 4), (2, 5, 6, 8)), 1 - 12 / 28),
    "empty_prediction": (np.zeros((12, 12), np.int64),
                         paint((12, 12), (1, 4, 1, 4)), 1 + 16 / 144),
}


@pytest.mark.parametrize("case", sorted(HAND_BUILT))
def test_hand_built_foreground_values(case):
    pred, label, expected = HAND_BUILT[case]
    assert sc_loss(hard_logits(pred), label, classes=[1]) == pytest.approx(expected, abs=1e-7)


def test_soft_iou_uses_probabilities():
    label = paint((6, 6), (1, 2, 1, 2))
    logits = np.zeros((1, 2, 6, 6))
    logits[0, 0] = MARGIN
    logits[0, 1, 1:3, 1:3], logits[0, 0, 1:3, 1:3] = np.log(4.0), 0.0  # P = 0.8 on the label
    logits[0, 1, 1:3, 3], logits[0, 0, 1:3, 3] = np.log(1.5), 0.0  # P = 0.6 beside it
    # I = 4 * 0.8, |p| = I + 2 * 0.6, |g| = 4.
    assert sc_loss(logits, label, classes=[1]) == pytest.approx(1 - 3.2 / (4.4 + 4 - 3.2))


def test_missed_class_adds_soft_missed_fraction_over_valid_pixels():
    label = paint((12, 12), (0, 11, 8, 11), value=255)  # 48 ignored pixels
    label[1:5, 1:5] = 1
    logits = np.zeros((1, 2, 12, 12))
    logits[0, 0] = np.log(3.0)  # P(foreground) = 0.25 everywhere, nothing predicted
    assert sc_loss(logits, label, classes=[1]) == pytest.approx(1 + 16 * 0.75 / 96)


def test_background_counts_like_any_class():
    label = paint((6, 6), (1, 2, 1, 2))
    pred = paint((6, 6), (1, 2, 1, 2), (4, 4, 4, 4))  # one lone foreground pixel
    expected = ((1 - 1 / 2) + (1 - 31 / 32)) / 2
    assert sc_loss(hard_logits(pred), label) == pytest.approx(expected, abs=1e-7)


def test_four_classes_without_class_index_scaling():
    label = np.zeros((8, 8), np.int64)
    label[0:2], label[3:5], label[6:8] = 1, 2, 3  # class 0: rows 2 and 5
    pred = label.copy()
    pred[6:8, 4] = 0  # splits class 3 and grows class 0's row-5 component by two pixels
    class_3 = 1 - (8 / 16 + 6 / 16) / 2
    class_0 = 1 - (1 + 8 / 10) / 2
    assert sc_loss(hard_logits(pred, 4), label) == pytest.approx((class_0 + class_3) / 4, abs=1e-7)


def test_ignored_predictions_do_not_count():
    label = paint((12, 12), (0, 11, 8, 11), value=255)
    label[1:5, 1:5] = 1
    pred = paint((12, 12), (1, 4, 1, 4), (2, 5, 9, 10))  # second blob only in ignored pixels
    assert sc_loss(hard_logits(pred), label) == pytest.approx(0.0, abs=1e-7)


def test_components_over_the_cap_count_as_lone():
    pred, label, _ = HAND_BUILT["split_person"]
    # The 32-pixel fragment is kept; the 24-pixel one becomes lone instead of vanishing.
    expected = 1 - (32 / 64) / 2
    assert sc_loss(hard_logits(pred), label, classes=[1], max_components=1) == pytest.approx(
        expected, abs=1e-7)


def test_batch_mean_and_images_without_labelled_pixels():
    pred, label, expected = HAND_BUILT["split_person"]
    logits = np.concatenate([hard_logits(pred), hard_logits(pred)])
    labels = np.stack([label, np.full_like(label, 255)])
    assert sc_loss(logits, labels, classes=[1]) == pytest.approx(expected / 2, abs=1e-7)
    assert sc_loss(logits, labels[:, None], classes=[1]) == pytest.approx(expected / 2, abs=1e-7)


def random_blobs(rng, shape, threshold, sigma=2.0):
    noise = cv2.GaussianBlur(rng.standard_normal(shape), (0, 0), sigma)
    return noise > threshold * noise.std()


@pytest.mark.parametrize("seed", range(6))
def test_matches_paddleseg_where_the_reference_is_correct(seed):
    """Foreground only (background labelled ignore), hard predictions inside the labelled
    foreground, at least one predicted component, no cap reached: the reference is right there."""
    rng = np.random.default_rng(seed)
    labels, logits = [], []
    for _ in range(2):
        foreground = random_blobs(rng, (40, 48), 0.3)
        pred = foreground & random_blobs(rng, (40, 48), -0.6, sigma=1.0)
        labels.append(np.where(foreground, 1, 255))
        logits.append(hard_logits(pred.astype(np.int64))[0])
        assert pred.any()
    labels, logits = np.stack(labels), np.stack(logits).astype(np.float32)
    reference = SemanticConnectivityLoss(ignore_index=255, max_pred_num_conn=10 ** 6)
    expected = float(reference(paddle.to_tensor(logits), paddle.to_tensor(labels)))
    assert 0 < expected < 1
    assert sc_loss(logits, labels) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("num_classes, options, never_predicted", [
    (3, {}, None),
    (2, {}, None),  # the two-class softmax
    (2, {}, 1),  # ... with class 1 labelled but never predicted
    (2, {}, 0),  # ... with class 0 (background) labelled but never predicted
    (3, {}, 2),  # class 2 is labelled but never predicted: the missed-fraction term
    (3, {"classes": [1, 2]}, None),
    (3, {"max_components": 1}, None),
])
def test_gradient_matches_finite_differences(num_classes, options, never_predicted):
    rng = np.random.default_rng(3)
    label = rng.integers(0, num_classes, (2, 7, 9))
    label[label == 0] = rng.integers(0, num_classes, np.count_nonzero(label == 0))
    label[:, 0, :3] = 255
    one_hot = np.eye(num_classes)[np.minimum(label, num_classes - 1)].transpose(0, 3, 1, 2)
    logits = rng.normal(0, 1.0, (2, num_classes, 7, 9)) + 1.5 * one_hot
    if never_predicted is not None:  # below every other class by 0.5 to 1.5: never the argmax
        others = np.delete(logits, never_predicted, axis=1).max(axis=1)
        logits[:, never_predicted] = others - rng.uniform(0.5, 1.5, others.shape)
    top2 = np.sort(logits, axis=1)[:, -2:]
    assert (top2[:, 1] - top2[:, 0]).min() > 1e-4  # no argmax flips under the perturbation
    loss = SCLoss(**options)
    label_tensor = paddle.to_tensor(label)
    x = paddle.to_tensor(logits, stop_gradient=False)
    loss(x, label_tensor).backward()
    analytic = x.grad.numpy()
    eps = 1e-6
    numeric = np.zeros_like(logits)
    for index in np.ndindex(logits.shape):
        plus, minus = logits.copy(), logits.copy()
        plus[index] += eps
        minus[index] -= eps
        numeric[index] = (float(loss(paddle.to_tensor(plus), label_tensor))
                          - float(loss(paddle.to_tensor(minus), label_tensor))) / (2 * eps)
    assert np.abs(analytic).max() > 1e-3
    np.testing.assert_allclose(analytic, numeric, atol=1e-7, rtol=1e-5)


def test_gradient_scales_with_the_output_gradient_and_no_grad_gives_the_same_value():
    rng = np.random.default_rng(5)
    label = paddle.to_tensor(rng.integers(0, 2, (2, 16, 20)))
    logits = rng.normal(0, 2.0, (2, 2, 16, 20)).astype(np.float32)
    loss = SCLoss()
    gradients = []
    for coefficient in (1.0, 0.1):  # 0.1: SCL's weight inside MixedLoss
        x = paddle.to_tensor(logits, stop_gradient=False)
        (coefficient * loss(x, label)).backward()
        gradients.append(x.grad.numpy())
    assert np.abs(gradients[0]).max() > 0
    np.testing.assert_allclose(gradients[1], 0.1 * gradients[0], rtol=1e-6, atol=1e-12)
    with paddle.no_grad():
        value_without_gradient = float(loss(paddle.to_tensor(logits), label))
    assert value_without_gradient == float(loss(paddle.to_tensor(logits, stop_gradient=False),
                                                label))


def test_a_kept_gradient_is_not_overwritten_by_the_next_call():
    rng = np.random.default_rng(6)
    label = paddle.to_tensor(rng.integers(0, 2, (2, 16, 20)))
    loss = SCLoss()
    leaves, kept = [], []
    for _ in range(2):
        x = paddle.to_tensor(rng.normal(0, 2.0, (2, 2, 16, 20)).astype(np.float32),
                             stop_gradient=False)
        loss(x, label).backward()
        leaves.append(x)
        kept.append(x.grad.numpy())
    for x, gradient in zip(leaves, kept):
        np.testing.assert_array_equal(x.grad.numpy(), gradient)
    assert not np.array_equal(kept[0], kept[1])


def test_half_precision_logits_are_computed_in_float32_and_get_a_half_gradient():
    # Mixed-precision training hands the loss float16 logits.
    rng = np.random.default_rng(7)
    label = paddle.to_tensor(rng.integers(0, 2, (2, 16, 20)))
    logits = rng.normal(0, 2.0, (2, 2, 16, 20)).astype(np.float16)
    results = {}
    for dtype in (np.float16, np.float32):
        x = paddle.to_tensor(logits.astype(dtype), stop_gradient=False)
        value = SCLoss()(x, label)
        (0.5 * value).backward()
        results[dtype] = (value, x.grad)
    (half_value, half_gradient), (value, gradient) = results[np.float16], results[np.float32]
    assert half_value.dtype == paddle.float32 and half_gradient.dtype == paddle.float16
    assert float(half_value) == float(value)
    np.testing.assert_allclose(half_gradient.numpy().astype(np.float32), gradient.numpy(),
                               rtol=1e-3, atol=1e-6)


class TinySegmenter(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.layers = paddle.nn.Sequential(paddle.nn.Conv2D(3, 8, 3, padding=1), paddle.nn.ReLU(),
                                           paddle.nn.Conv2D(8, 2, 3, padding=1))

    def forward(self, x):
        return self.layers(x)


def toy_batch(seed=0):
    rng = np.random.default_rng(seed)
    labels = np.stack([random_blobs(rng, (24, 32), 0.5, sigma=3.0) for _ in range(4)])
    images = labels[:, None].astype(np.float32) + rng.normal(0, 0.8, (4, 3, 24, 32))
    return paddle.to_tensor(images.astype(np.float32)), paddle.to_tensor(labels.astype(np.int64))


def train(total_loss, steps=25, learning_rate=0.02):
    paddle.seed(0)
    model = TinySegmenter()
    optimizer = paddle.optimizer.Adam(learning_rate, parameters=model.parameters())
    images, labels = toy_batch()
    history = []
    for _ in range(steps):
        loss = total_loss(model(images), labels)
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        history.append(float(loss))
    return history


def test_sc_loss_alone_trains_a_model():
    history = train(SCLoss())
    assert np.mean(history[-5:]) < 0.8 * np.mean(history[:5])


def test_reference_loss_alone_leaves_the_model_untrained():
    # The defect SCLoss fixes: with use_argmax=True no gradient reaches the logits.
    history = train(SemanticConnectivityLoss(), steps=3)
    assert history[0] == history[-1]


def test_mixed_with_cross_entropy_from_a_config(tmp_path):
    config = {
        "batch_size": 4, "iters": 25,
        "train_dataset": {"type": "Dataset", "num_classes": 2, "ignore_index": 255},
        "model": {"type": "PPHumanSegLite", "num_classes": 2},
        "optimizer": {"type": "Adam"},
        "lr_scheduler": {"type": "PolynomialDecay", "learning_rate": 0.02},
        "loss": {"types": [{"type": "MixedLoss", "coef": [1, 0.1],
                            "losses": [{"type": "CrossEntropyLoss"}, {"type": "SCLoss"}]}],
                 "coef": [1]},
    }
    path = tmp_path / "scl.yml"
    path.write_text(yaml.safe_dump(config))
    losses = SegBuilder(Config(str(path))).loss
    mixed = losses["types"][0]
    assert [type(term).__name__ for term in mixed.losses] == ["CrossEntropyLoss", "SCLoss"]

    def total_loss(logits, labels):
        return sum(ppseg_train.loss_computation([logits], labels, None, losses)).squeeze()

    with cross_entropy_on_paddle3():
        history = train(total_loss)
    assert np.mean(history[-5:]) < 0.8 * np.mean(history[:5])


@pytest.mark.parametrize("logits_shape, label_shape, message", [
    ((2, 4, 4), (2, 4, 4), r"logits of shape \[N, C, H, W\], got \[2, 4, 4\]"),
    ((2, 2, 4, 4), (2, 4, 5), r"label shape \[2, 4, 5\] does not match logits shape"),
    ((2, 2, 4, 4), (2, 2, 4, 4), r"label shape \[2, 2, 4, 4\] does not match"),
])
def test_rejects_bad_shapes(logits_shape, label_shape, message):
    with pytest.raises(ValueError, match=message):
        SCLoss()(paddle.zeros(logits_shape), paddle.zeros(label_shape, dtype="int64"))


def test_rejects_label_values_outside_the_classes():
    label = paint((4, 4), (0, 0, 0, 0), value=2)
    label[3, 3] = 255
    labels = np.stack([np.zeros_like(label), label])  # the bad image is not the first
    with pytest.raises(ValueError, match=r"label values \[2\] are outside \[0, 2\)"):
        sc_loss(np.zeros((2, 2, 4, 4)), labels)


def test_rejects_float_labels_and_bad_arguments():
    with pytest.raises(ValueError, match="integer tensor"):
        SCLoss()(paddle.zeros((1, 2, 4, 4)), paddle.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match="classes .* include ids >= num_classes=2"):
        SCLoss(classes=[2])(paddle.zeros((1, 2, 4, 4)), paddle.zeros((1, 4, 4), dtype="int64"))
    with pytest.raises(ValueError, match="max_components"):
        SCLoss(max_components=0)
    with pytest.raises(ValueError, match="classes"):
        SCLoss(classes=[1, 1])
