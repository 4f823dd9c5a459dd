import math
import subprocess
import sys

import numpy as np
import pytest

from pphumanseg.metrics.temporal import TemporalStability


def test_counts_flicker_only_where_the_label_is_valid_and_unchanged():
    label_t = np.array([[0, 0, 1, 1, 255]])
    label_t1 = np.array([[0, 1, 1, 1, 0]])  # pixel 1 changes class, pixel 4 is ignored in frame t
    pred_t = np.array([[0, 0, 1, 0, 1]])
    pred_t1 = np.array([[1, 1, 1, 1, 0]])  # flickers at pixels 0 and 3 (stable), 1 and 4 (not counted)
    metric = TemporalStability()
    metric.update(pred_t, pred_t1, label_t, label_t1)
    result = metric.result()
    assert result["flicker_rate"] == pytest.approx(2 / 3)
    assert result["temporal_stability"] == pytest.approx(1 / 3)


def test_accumulates_pixels_over_pairs_not_an_average_of_rates():
    metric = TemporalStability()
    metric.update(np.zeros((1, 1)), np.ones((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)))  # 1 of 1 flickers
    steady = np.zeros((3, 3))
    metric.update(steady, steady, steady, steady)  # 0 of 9
    assert metric.result()["flicker_rate"] == pytest.approx(1 / 10)


def test_identical_predictions_are_perfectly_stable_and_batches_work():
    rng = np.random.RandomState(0)
    pred = rng.randint(0, 2, (4, 8, 8))
    label = rng.randint(0, 2, (4, 8, 8))
    metric = TemporalStability()
    metric.update(pred, pred, label, label)
    assert metric.result() == {"temporal_stability": 1.0, "flicker_rate": 0.0}


def test_nothing_to_measure_gives_nan_and_mismatched_shapes_raise():
    metric = TemporalStability(ignore_index=255)
    full_ignore = np.full((2, 2), 255)
    metric.update(np.zeros((2, 2)), np.ones((2, 2)), full_ignore, full_ignore)
    assert math.isnan(metric.result()["flicker_rate"])
    with pytest.raises(ValueError, match="shape"):
        metric.update(np.zeros((2, 2)), np.zeros((2, 3)), np.zeros((2, 2)), np.zeros((2, 2)))


def test_module_does_not_import_paddle():
    # Load the file directly so the package __init__ (which imports paddle) is not run.
    code = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('t', "
            f"{repr(sys.modules[TemporalStability.__module__].__file__)}); "
            "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); "
            "print('paddle' in sys.modules)")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "False"
