"""Hard semantic connectivity (SC) metric on hand-built images with hand-computed values."""
import numpy as np
import pytest

from pphumanseg.metrics.component_matching import class_codes, match_class, pair_scores
from pphumanseg.metrics.connectivity import SCMetric, semantic_connectivity


def paint(shape, *boxes, value=1, base=0):
    """An int64 map of ``base`` with each inclusive (top, bottom, left, right) box set to value."""
    image = np.full(shape, base, dtype=np.int64)
    for top, bottom, left, right in boxes:
        image[top:bottom + 1, left:right + 1] = value
    return image


def foreground_sc(pred, label, ignore_index=255):
    return semantic_connectivity(pred, label, num_classes=2, ignore_index=ignore_index)[1]


def test_two_blobs_one_shifted():
    label = paint((12, 12), (1, 4, 1, 4), (8, 10, 8, 10))
    pred = paint((12, 12), (1, 4, 2, 5), (8, 10, 8, 10))
    # IoU(g1, p1) = 12 / (16 + 16 - 12) = 0.6, IoU(g2, p2) = 1.
    assert foreground_sc(pred, label) == pytest.approx((0.6 + 1.0) / 2)


def test_lone_predictions_enlarge_the_denominator():
    label = paint((12, 12), (1, 4, 1, 4))
    pred = paint((12, 12), (1, 4, 1, 4), (8, 9, 8, 9), (10, 11, 1, 2))
    assert foreground_sc(pred, label) == pytest.approx(1 / 3)


def test_split_person_averages_its_fragments():
    label = paint((12, 12), (2, 9, 2, 9))
    pred = paint((12, 12), (2, 9, 2, 4), (2, 9, 6, 9))  # column 5 missing: two components
    assert foreground_sc(pred, label) == pytest.approx((24 / 64 + 32 / 64) / 2)


def test_merged_pair_counts_for_both_label_components():
    label = paint((8, 11), (2, 5, 2, 4), (2, 5, 6, 8))
    pred = paint((8, 11), (2, 5, 2, 8))
    assert foreground_sc(pred, label) == pytest.approx(12 / 28)


def test_empty_prediction_scores_zero_and_absent_class_is_nan():
    label = paint((8, 8), (2, 5, 2, 5))
    scores = semantic_connectivity(np.zeros((8, 8), np.int64), label, num_classes=3)
    assert scores[1] == 0.0
    assert np.isnan(scores[2])
    assert scores[0] == pytest.approx(48 / 64)  # background predicted everywhere, one component


def test_background_is_scored_like_any_class():
    label = paint((6, 6), (1, 2, 1, 2))
    pred = paint((6, 6), (1, 2, 1, 2), (4, 4, 4, 4))
    scores = semantic_connectivity(pred, label, num_classes=2)
    assert scores[1] == pytest.approx(1 / 2)
    assert scores[0] == pytest.approx(31 / 32)


def test_ignored_pixels_count_in_neither_prediction_nor_label():
    label = paint((12, 12), (0, 11, 8, 11), value=255, base=0)
    label[1:5, 1:5] = 1
    pred = paint((12, 12), (1, 4, 1, 4), (2, 5, 9, 10))  # second blob lies in ignored pixels
    assert foreground_sc(pred, label) == pytest.approx(1.0)


def test_cap_counts_extra_components_as_lone():
    label = paint((12, 12), (2, 9, 2, 9))
    pred = paint((12, 12), (2, 9, 2, 4), (2, 9, 6, 9))
    matching = match_class(*class_codes(pred, label, 2, 255), class_id=1, max_components=1)
    # The larger fragment (32 px) is kept; the other one counts as lone.
    assert pair_scores(matching).sc == pytest.approx((32 / 64) / 2)
    assert matching.intersections.shape == (2, 2)  # one label and one predicted component kept


def test_metric_averages_over_images_and_classes():
    label = paint((12, 12), (2, 9, 2, 9))
    split = paint((12, 12), (2, 9, 2, 4), (2, 9, 6, 9))
    metric = SCMetric(num_classes=2)
    metric.update(np.stack([label, split]), np.stack([label, label]))
    result = metric.result()
    split_scores = semantic_connectivity(split, label, num_classes=2)
    assert result["sc_per_class"][1] == pytest.approx((1.0 + split_scores[1]) / 2)
    assert result["sc_per_class"][0] == pytest.approx((1.0 + split_scores[0]) / 2)
    assert result["sc"] == pytest.approx(np.mean(result["sc_per_class"]))


@pytest.mark.parametrize("pred_shape, label_shape",
                         [((4, 4), (4, 5)), ((2, 2, 4, 4), (2, 2, 4, 4))])
def test_metric_rejects_mismatched_shapes(pred_shape, label_shape):
    with pytest.raises(ValueError, match="pred and label"):
        SCMetric(2).update(np.zeros(pred_shape, np.int64), np.zeros(label_shape, np.int64))


def test_metric_rejects_out_of_range_labels():
    label = paint((4, 4), (0, 1, 0, 1), value=7)
    with pytest.raises(ValueError, match=r"label values \[7\]"):
        SCMetric(2).update(np.zeros((4, 4), np.int64), label)


def test_more_components_than_uint16_ids_hold():
    # 512x512 can hold 65,536 separate components (one pixel every 2x2).
    label = np.ones((512, 512), np.int64)
    pred = np.zeros((512, 512), np.int64)
    pred[::2, ::2] = 1  # 65,536 one-pixel components inside the one label component
    scores = semantic_connectivity(pred, label, num_classes=2)
    assert np.isnan(scores[0])
    assert scores[1] == pytest.approx(1 / (512 * 512))


@pytest.mark.parametrize("shape", [(868, 302), (510, 514)])
def test_component_count_at_the_uint16_limit(shape):
    # 65,534 and 65,535 one-pixel components: with 16-bit ids, OpenCV's label count (background
    # included) would wrap at 65,535 components.
    label = np.ones(shape, np.int64)
    pred = np.zeros(shape, np.int64)
    pred[::2, ::2] = 1
    components = np.count_nonzero(pred)
    matching = match_class(*class_codes(pred, label, 2, 255), class_id=1)
    assert matching.intersections.shape == (2, components + 1)
    assert semantic_connectivity(pred, label, num_classes=2)[1] == pytest.approx(1 / pred.size)
