#!/usr/bin/env bash
# Creates (or brings up to date) .venv with Python 3.10 and everything the project, its tests,
# ONNX export and Paddle Lite need. Safe to run again: it reinstalls only when requirements change.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
    local candidate
    for candidate in "$(command -v python3.10 || true)" \
        "$(command -v pyenv >/dev/null && echo "$(pyenv root)"/versions/3.10*/bin/python)"; do
        for exe in $candidate; do
            if [ -x "$exe" ] && "$exe" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
                echo "$exe"
                return 0
            fi
        done
    done
    return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    python310=$(find_python310) || {
        echo "setup.sh: error: Python 3.10 not found (needed by paddlelite); install it, e.g. 'pyenv install 3.10'" >&2
        exit 1
    }
    rm -rf .venv
    "$python310" -m venv .venv
fi

stamp=.venv/.pphumanseg-requirements
wanted=$(cat setup.py pyproject.toml requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[onnx,lite,test]"
    .venv/bin/python -m pip check
    echo "$wanted" > "$stamp"
fi
echo "setup.sh: .venv ready ($(.venv/bin/python --version))"

# The browser page's npm packages (onnxruntime-web, js-yaml), pinned by deploy/web/package-lock.json.
web_stamp=deploy/web/node_modules/.pphumanseg-lock
if ! command -v npm >/dev/null; then
    echo "setup.sh: npm not found: deploy/web gets no onnxruntime-web, so 'pphumanseg serve' and tests/web cannot run"
elif [ "$(cat "$web_stamp" 2>/dev/null)" != "$(sha256sum < deploy/web/package-lock.json)" ]; then
    (cd deploy/web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    sha256sum < deploy/web/package-lock.json > "$web_stamp"
    echo "setup.sh: deploy/web/node_modules ready (npm $(npm --version))"
fi
