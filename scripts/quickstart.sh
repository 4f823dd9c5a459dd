#!/usr/bin/env bash
# README's main-job command: set-up, then the whole product in a few minutes with the released
# PP-HumanSegV1-Lite weights (evaluation on generated data, export, background replacement of a
# real person; training on generated data instead when the weights cannot be had).
# Usage: bash scripts/quickstart.sh [--out DIR] [--weights RELEASE.pdparams] [--input VIDEO]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python scripts/quickstart.py "$@"
