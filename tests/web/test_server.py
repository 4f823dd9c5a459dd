"""``pphumanseg serve`` and pphumanseg_deploy.web_server: what it answers, with which headers, and
what it refuses (no browser needed)."""
import http.client
import os
import signal
import subprocess
import sys

import pytest

from pphumanseg_deploy import DeployError
from pphumanseg_deploy.web_server import WebServer

DEPLOY_YAML = """Deploy:
  model: model.pdmodel
  params: model.pdiparams
  transforms:
  - type: Resize
    target_size: [398, 224]
  - type: Normalize
  output_op: foreground
"""


def write_model_dir(folder):
    folder.mkdir()
    (folder / "deploy.yaml").write_text(DEPLOY_YAML)
    (folder / "model.onnx").write_bytes(b"not really onnx, but served as it is")
    return folder


@pytest.fixture
def model_dir(tmp_path):
    return write_model_dir(tmp_path / "model")


@pytest.fixture(scope="module")
def served_dir(tmp_path_factory):
    return write_model_dir(tmp_path_factory.mktemp("served") / "model")


@pytest.fixture(scope="module")
def server(served_dir, serve_page):
    with serve_page(served_dir) as server:
        yield server


def request(server, method, path):
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    connection.request(method, path)  # sent as written: http.client does not normalise ../
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


@pytest.mark.parametrize("path, content_type", [
    ("/", "text/html; charset=utf-8"),
    ("/index.html", "text/html; charset=utf-8"),
    ("/app.mjs", "text/javascript; charset=utf-8"),
    ("/style.css", "text/css; charset=utf-8"),
    ("/vendor/js-yaml.mjs", "text/javascript; charset=utf-8"),
    ("/ort/ort.all.min.mjs", "text/javascript; charset=utf-8"),
    ("/ort/ort-wasm-simd-threaded.jsep.wasm", "application/wasm"),
    ("/model/deploy.yaml", "text/yaml; charset=utf-8"),
    ("/model/model.onnx", "application/octet-stream"),
])
def test_serves_page_runtime_and_model_files_cross_origin_isolated(server, web_dependencies, served_dir, path,
                                                                   content_type):
    response, body = request(server, "GET", path)
    assert response.status == 200
    assert response.getheader("Content-Type") == content_type
    assert response.getheader("Cross-Origin-Opener-Policy") == "same-origin"
    assert response.getheader("Cross-Origin-Embedder-Policy") == "require-corp"
    assert int(response.getheader("Content-Length")) == len(body) > 0
    if path.startswith("/model/"):
        assert body == (served_dir / path.rsplit("/", 1)[1]).read_bytes()
    if path in ("/", "/index.html"):
        assert body == (web_dependencies / "index.html").read_bytes()


def test_head_sends_the_headers_without_the_body(server, web_dependencies):
    response, body = request(server, "HEAD", "/ort/ort-wasm-simd-threaded.jsep.wasm")
    assert response.status == 200 and body == b""
    size = (web_dependencies / "node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm").stat().st_size
    assert int(response.getheader("Content-Length")) == size


@pytest.mark.parametrize("path", [
    "/../setup.py", "/model/../deploy.yaml", "/model/..%2f..%2fsetup.py", "/%2e%2e/%2e%2e/setup.py",
    "/ort/../package.json", "/ort/../../js-yaml/package.json", "/package.json", "/package-lock.json",
    "/node_modules/onnxruntime-web/package.json", "/model/", "/model", "/ort/", "//etc/passwd",
    "/model/deploy.yaml/", "/web_server.py", "/vendor/", "/favicon.ico"])
def test_anything_outside_the_served_files_is_404(server, path):
    response, _ = request(server, "GET", path)
    assert response.status == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"])
def test_only_get_and_head_are_answered(server, method):
    response, _ = request(server, method, "/model/deploy.yaml")
    assert response.status == 405
    assert response.getheader("Allow") == "GET, HEAD"


def run_serve(capsys, *arguments):
    """(exit status, stderr) of ``pphumanseg serve ARGUMENTS`` that stops before serving."""
    from pphumanseg.cli.main import main

    with pytest.raises(SystemExit) as stopped:
        main(["serve", *arguments])
    return stopped.value.code, capsys.readouterr().err


def test_model_dir_without_onnx_is_a_one_line_error(capsys, model_dir):
    (model_dir / "model.onnx").unlink()
    status, stderr = run_serve(capsys, "--model_dir", str(model_dir), "--port", "0")
    assert status == 2
    assert stderr.count("\n") == 1 and "model.onnx: not found (export with --formats onnx)" in stderr


@pytest.mark.parametrize("text, message", [
    ("Deploy: [unclosed\n", "deploy.yaml line 2"),
    ("Deploy:\n  model: m\n  params: p\n  transforms: []\n  output_op: sigmoid\n", "field 'Deploy.output_op' is 'sigmoid'"),
    ("Deploy:\n  model: m\n  params: p\n  transforms:\n  - type: RandomBlur\n",
     "Deploy.transforms[0] (RandomBlur): transform not supported"),
])
def test_unreadable_deploy_yaml_is_a_one_line_error(capsys, model_dir, text, message):
    (model_dir / "deploy.yaml").write_text(text)
    status, stderr = run_serve(capsys, "--model_dir", str(model_dir), "--port", "0")
    assert status == 2
    assert stderr.count("\n") == 1 and message in stderr, stderr


def test_port_out_of_range_is_a_usage_error(capsys, model_dir):
    status, stderr = run_serve(capsys, "--model_dir", str(model_dir), "--port", "70000")
    assert status == 2 and "--port must be between 0 and 65535" in stderr


def test_serve_prints_the_local_url_and_ctrl_c_stops_it(model_dir, web_dependencies):
    process = subprocess.Popen([sys.executable, "-m", "pphumanseg", "serve", "--model_dir", str(model_dir), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=dict(os.environ, PYTHONWARNINGS="ignore"))
    try:
        line = process.stdout.readline()
        assert "http://127.0.0.1:" in line and "Ctrl-C" in line
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/model/deploy.yaml")
        assert connection.getresponse().status == 200  # the connection stays open (keep-alive)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "stopped" in process.stdout.read()
    finally:
        process.kill()
        process.wait()


def test_a_taken_port_is_a_one_line_error(server, served_dir):
    with pytest.raises(DeployError, match=r"cannot listen on 127\.0\.0\.1:\d+"):
        WebServer(str(served_dir), port=server.server_address[1])
