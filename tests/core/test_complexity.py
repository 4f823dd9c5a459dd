import json
import subprocess
import sys

import pytest

from pphumanseg.core import complexity
from pphumanseg.utils.errors import UsageError

CONNECTNET = "configs/connectnet/connectnet_portrait_398x224.yml"


def test_connectnet_row_reproduces_the_paper(repo_root):
    row = complexity.measure(repo_root / CONNECTNET)
    assert (row.model, row.input_width, row.input_height) == ("ConnectNet", 398, 224)
    assert row.params == 137_466
    assert abs(row.flops - 266_440_496) <= 0.01 * 266_440_496
    # float32 values plus a small header per tensor: about the paper's 543 KB
    assert 4 * row.params <= row.params_file_bytes <= 4 * row.params + 64 * 300


def test_find_configs_skips_base_fragments_and_reports_missing_paths(repo_root):
    found = complexity.find_configs([repo_root / "configs"])
    assert found and all("_base_" not in p.parts for p in found)
    with pytest.raises(UsageError, match="no such config"):
        complexity.find_configs([repo_root / "configs" / "absent.yml"])


def test_config_without_resize_is_a_usage_error(tmp_path, repo_root):
    bad = tmp_path / "bad.yml"
    bad.write_text(f"_base_: {repo_root / CONNECTNET}\n"
                   "val_dataset:\n  transforms:\n    - type: Normalize\n")
    with pytest.raises(UsageError, match="val_dataset.transforms"):
        complexity.measure(bad)


def test_cli_prints_json_only_on_stdout(repo_root, cli_env):
    result = subprocess.run(
        [sys.executable, "-m", "pphumanseg", "complexity", "--configs", CONNECTNET, "--json"],
        cwd=repo_root, env=cli_env, capture_output=True, text=True, check=True)
    (row,) = json.loads(result.stdout)
    assert row["params"] == 137_466 and row["config"] == CONNECTNET


def test_cli_rejects_a_missing_config(repo_root, cli_env):
    result = subprocess.run(
        [sys.executable, "-m", "pphumanseg", "complexity", "--configs", "absent.yml"],
        cwd=repo_root, env=cli_env, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == \
        "pphumanseg complexity: error: absent.yml: no such config file or directory"
