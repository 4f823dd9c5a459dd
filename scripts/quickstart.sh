#!/usr/bin/env bash
# README's main-job command: set-up, then the whole product on generated data in a few minutes
# (data, training with SC loss, evaluation, export, background replacement on a 720p clip).
# Usage: bash scripts/quickstart.sh [--out DIR]   (default quickstart_output/)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python scripts/quickstart.py "$@"
