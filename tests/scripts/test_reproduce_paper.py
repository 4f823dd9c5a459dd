"""scripts/reproduce_paper.py: the complexity check CI relies on, and bad --data."""
import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("reproduce_paper", REPO / "scripts" / "reproduce_paper.py")
reproduce_paper = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reproduce_paper)

PAPER_ROW = {"input_width": 398, "input_height": 224, "params": 137_466, "flops": 266_440_496}


def test_paper_row_passes_and_flops_may_differ_within_one_percent():
    assert reproduce_paper.check_complexity(PAPER_ROW) == []
    assert reproduce_paper.check_complexity(dict(PAPER_ROW, flops=266_440_496 * 1.009)) == []


@pytest.mark.parametrize("change, message", [
    ({"params": 137_467}, "params 137,467, expected exactly 137,466"),
    ({"params": 236_178}, "params 236,178"),
    ({"flops": 266_440_496 * 1.011}, "FLOPs"),
    ({"flops": 266_440_496 * 0.98}, "FLOPs"),
    ({"input_width": 256, "input_height": 144}, "input 256x144"),
])
def test_any_difference_from_the_paper_is_reported(change, message):
    problems = reproduce_paper.check_complexity(dict(PAPER_ROW, **change))
    assert len(problems) == 1 and message in problems[0]


def test_data_without_splits_is_a_one_line_usage_error(tmp_path, capsys):
    (tmp_path / "train.txt").write_text("")
    with pytest.raises(SystemExit) as exit_info:
        reproduce_paper.main(["--data", str(tmp_path), "--budget", "small"])
    assert exit_info.value.code == 2
    assert "no val.txt" in capsys.readouterr().err


def test_paired_difference_is_a_t_interval_over_seeds():
    # differences 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.303
    difference = reproduce_paper.paired_difference([11.0, 12.0, 13.0], [10.0, 10.0, 10.0])
    assert difference["mean"] == pytest.approx(2.0)
    assert difference["half_width"] == pytest.approx(4.3027 / 3 ** 0.5, rel=1e-4)
    assert not difference["significant"]  # 2 < 2.48
    assert difference["per_seed"] == [1.0, 2.0, 3.0]
    consistent = reproduce_paper.paired_difference([12.0, 12.1, 11.9, 12.0], [10.0, 10.0, 10.0, 10.0])
    assert consistent["significant"] and consistent["mean"] == pytest.approx(2.0)


def test_runs_are_paired_by_seed_whatever_order_they_finish_in():
    runs = [{"loss": "CE + SCL", "seed": 1, "sc": 30.0, "miou": 80.0},
            {"loss": "CE", "seed": 0, "sc": 10.0, "miou": 70.0},
            {"loss": "CE", "seed": 1, "sc": 25.0, "miou": 79.0},
            {"loss": "CE + SCL", "seed": 0, "sc": 14.0, "miou": 71.0}]
    summaries, differences = reproduce_paper.aggregate(runs)
    assert differences["sc"]["per_seed"] == [4.0, 5.0]
    assert differences["miou"]["per_seed"] == [1.0, 1.0]
    assert summaries["CE"]["sc"]["mean"] == pytest.approx(17.5)
    assert "photo_agreement" not in differences  # measured only for runs started from weights
    line = reproduce_paper.verdict("sc", differences["sc"], 2, "ci")
    assert line == "SC (CE + SCL - CE): +4.50 ± 6.35 points (95 % interval over 2 seeds), not significant at budget ci"


@pytest.mark.parametrize("arguments, message", [
    (["--seeds", "1"], "--seeds 1: a paired difference needs at least 2"),
    (["--init", "missing.pdparams"], "--init missing.pdparams: no such file"),
])
def test_bad_flags_are_one_line_usage_errors(tmp_path, capsys, arguments, message):
    for split in ("train.txt", "val.txt"):
        (tmp_path / split).write_text("")
    with pytest.raises(SystemExit) as exit_info:
        reproduce_paper.main(["--data", str(tmp_path), *arguments])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_the_table_has_the_start_every_run_the_means_and_the_paired_row():
    runs = [{"loss": loss, "seed": seed, **{key: 50.0 + seed + (loss == "CE + SCL")
                                           for key, _ in reproduce_paper.METRICS}}
            for seed in (0, 1) for loss in reproduce_paper.LOSSES]
    summaries, differences = reproduce_paper.aggregate(runs)
    start = {key: 40.0 for key, _ in reproduce_paper.METRICS}
    table = reproduce_paper.markdown({"description": "header", "start": start, "runs": runs,
                                      "summaries": summaries, "differences": differences,
                                      "verdicts": ["SC ...", "mIoU ..."]})
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 1 + 4 + 2 + 1  # header, start, runs, means, paired difference
    assert rows[1].startswith("| start (untrained) | - | 40.00 |")
    assert rows[-1].startswith("| **SCL - CE**, paired, 95 % interval | all | +1.00 ± 0.00* |")
    assert table.rstrip().endswith("- mIoU ...")
