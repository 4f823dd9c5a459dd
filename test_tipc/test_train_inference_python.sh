#!/usr/bin/env bash
# Usage: bash test_tipc/test_train_inference_python.sh test_tipc/configs/<model>/train_infer_python.txt MODE
# Train -> eval -> export -> inference (Paddle Inference, ONNX Runtime, Paddle Lite x86) -> comparison;
# one PASS/FAIL line per step in test_tipc/output/<model_name>/results_MODE.log, non-zero exit on any FAIL.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python test_tipc/tipc.py chain "$@"
