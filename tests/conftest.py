import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# One thread per process: tests run on 2 cores and several start subprocesses.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def repo_root():
    return REPO


@pytest.fixture
def cli_env():
    """Environment for running `python -m pphumanseg ...` in a subprocess from any directory."""
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = "ignore"
    return env

