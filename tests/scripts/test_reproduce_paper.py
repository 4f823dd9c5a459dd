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
