"""Fixtures of the browser-page tests: the page's npm files, a model directory exported for the
page, a generated camera clip, Chromium, and the page's server in a thread."""
import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WEB_DIR = REPO / "deploy" / "web"
CLIP_SIZE, CLIP_FRAMES, CLIP_SEED = (640, 360), 30, 7


def _deploy_test_helpers():
    # The deploy tests' export settings, from their conftest (not importable by name).
    spec = importlib.util.spec_from_file_location("deploy_test_helpers", REPO / "tests" / "deploy" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def web_dependencies():
    """deploy/web/node_modules, which scripts/setup.sh installs with npm."""
    if not (WEB_DIR / "node_modules" / "onnxruntime-web" / "dist").is_dir():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed, so deploy/web has no onnxruntime-web (scripts/setup.sh says so)")
        pytest.fail("deploy/web/node_modules is missing: run scripts/setup.sh (it runs 'npm ci' there)")
    return WEB_DIR


@pytest.fixture(scope="session")
def clip_frames():
    """Generated teleconference frames (BGR, 640x360); the first is the deploy tests' portrait_frame."""
    from pphumanseg.synth import render_clip

    return [frame for frame, _ in render_clip(size=CLIP_SIZE, frames=CLIP_FRAMES, seed=CLIP_SEED)]


@pytest.fixture(scope="session")
def web_model(tmp_path_factory, released_weights):
    """The released PP-HumanSegV1-Lite exported to ONNX with output_op foreground, as the deploy
    tests export it."""
    helpers = _deploy_test_helpers()
    save_dir = tmp_path_factory.mktemp("web_model") / "foreground"
    subprocess.run(
        [sys.executable, "-m", "pphumanseg", "export", "--config", str(helpers.CONFIG), "--model_path", str(released_weights),
         "--save_dir", str(save_dir), "--output_op", "foreground", "--input_shape", *helpers.INPUT_SHAPE,
         "--formats", "onnx"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    return save_dir


@pytest.fixture(scope="session")
def chromium_executable():
    from chromium import find_or_install

    path, reason = find_or_install()
    if path is None:
        print(f"skipping the browser tests: {reason}")
        pytest.skip(reason)
    return path


@contextlib.contextmanager
def serving(model_dir):
    """pphumanseg_deploy's WebServer for ``model_dir`` on a free port, in a thread; yields it
    (its ``url`` is what ``pphumanseg serve`` prints)."""
    from pphumanseg_deploy.web_server import WebServer

    with WebServer(str(model_dir), port=0) as server:
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()
            thread.join()


@pytest.fixture(scope="session")
def serve_page(web_dependencies):
    """``serving``: a context manager that serves the page for a model directory."""
    return serving
