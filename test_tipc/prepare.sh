#!/usr/bin/env bash
# Usage: bash test_tipc/prepare.sh test_tipc/configs/<model>/train_infer_python.txt MODE
# Generates the data MODE needs under test_tipc/data/<model_name>/MODE (see test_tipc/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python test_tipc/tipc.py prepare "$@"
