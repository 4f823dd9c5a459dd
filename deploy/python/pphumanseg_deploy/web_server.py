"""Serves the browser page (``deploy/web``) and one exported model directory over HTTP.

URLs, each mapped to one file found when the server starts (nothing else exists, so ``../`` or
an encoded ``%2e%2e%2f`` in a path is a 404 like any other unknown path):

- ``/`` and ``/<file>``: the page's own files in deploy/web (``.html``, ``.mjs``, ``.css``);
- ``/ort/<file>``: onnxruntime-web's ``dist`` files, installed by ``npm ci`` in deploy/web;
- ``/vendor/js-yaml.mjs``: the YAML parser the page reads deploy.yaml with (npm too);
- ``/model/<file>``: the files of the model directory.

Every answer carries the cross-origin isolation headers (COOP/COEP) that onnxruntime-web's wasm
threads need. Only GET and HEAD are answered; any other method gets 405.
"""
import os
import shutil
import socket
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .deploy_config import DeployConfig
from .errors import DeployError
from .onnx_backend import ONNX_FILE
from .preprocess import Preprocess

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
PAGE_EXTENSIONS = (".html", ".mjs", ".css")
ORT_DIST = WEB_DIR / "node_modules" / "onnxruntime-web" / "dist"
JS_YAML = WEB_DIR / "node_modules" / "js-yaml" / "dist" / "browser" / "js-yaml.esm.min.mjs"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".wasm": "application/wasm",
    ".map": "application/json",
    ".json": "application/json",
    ".yaml": "text/yaml; charset=utf-8",
    ".yml": "text/yaml; charset=utf-8",
}
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def check_model_dir(model_dir):
    """Raises DeployError, in one line, unless the page can load ``model_dir``: deploy.yaml must be
    valid with transforms the pre-processing understands, and model.onnx must exist."""
    if not os.path.isdir(model_dir):
        raise DeployError(f"{model_dir}: not a directory")
    try:
        config = DeployConfig(model_dir)
    except OSError as error:
        raise DeployError(f"{os.path.join(model_dir, 'deploy.yaml')}: cannot read it ({error.strerror})") from None
    Preprocess(config.transforms, config.fixed_input_size, source=config.path)
    onnx_path = os.path.join(model_dir, ONNX_FILE)
    if not os.path.isfile(onnx_path):
        raise DeployError(f"{onnx_path}: not found (export with --formats onnx)")


def _files_in(folder, prefix, keep=lambda name: True):
    return {prefix + name: folder / name for name in sorted(os.listdir(folder))
            if not name.startswith(".") and keep(name) and (folder / name).is_file()}


def served_files(model_dir):
    """{URL path: file} of everything the server answers."""
    for needed in (ORT_DIST, JS_YAML):
        if not needed.exists():
            raise DeployError(f"{needed}: not found; run 'npm ci' in {WEB_DIR} (scripts/setup.sh does)")
    files = _files_in(WEB_DIR, "/", keep=lambda name: name.endswith(PAGE_EXTENSIONS))
    files["/"] = WEB_DIR / "index.html"
    files.update(_files_in(ORT_DIST, "/ort/"))
    files["/vendor/js-yaml.mjs"] = JS_YAML
    files.update(_files_in(Path(model_dir), "/model/"))
    return files


class _Handler(BaseHTTPRequestHandler):
    server_version = "pphumanseg-serve"

    def do_GET(self):
        self._answer(with_body=True)

    def do_HEAD(self):
        self._answer(with_body=False)

    def __getattr__(self, name):
        # The base class answers methods it has no do_<METHOD> for with 501; every method but GET
        # and HEAD gets 405 instead.
        if name.startswith("do_"):
            return self._refuse_method
        raise AttributeError(name)

    def _refuse_method(self):
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _answer(self, with_body):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        file = self.server.files.get(path)
        try:
            stream = open(file, "rb") if file is not None else None
        except OSError:
            stream = None
        if stream is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        with stream:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", CONTENT_TYPES.get(file.suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(os.fstat(stream.fileno()).st_size))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            for header, value in ISOLATION_HEADERS.items():
                self.send_header(header, value)
            self.end_headers()
            if with_body:
                try:
                    shutil.copyfileobj(stream, self.wfile)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the browser gave up on the download; nothing to answer any more


class WebServer(ThreadingHTTPServer):
    """The HTTP server of the page and ``model_dir``; ``url`` is where a browser opens it.

    Args:
        model_dir (str): Exported model directory (deploy.yaml and model.onnx).
        host (str): Address to listen on.
        port (int): TCP port; 0 takes any free one.
    """

    daemon_threads = True  # open keep-alive connections must not hold up stopping

    def __init__(self, model_dir, host="127.0.0.1", port=8000):
        check_model_dir(model_dir)
        self.files = served_files(model_dir)
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            super().__init__((host, port), _Handler)
        except OSError as error:
            raise DeployError(f"cannot listen on {host}:{port} ({error.strerror or error})") from None
        shown_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown_host}:{self.server_address[1]}/"


def serve(model_dir, host="127.0.0.1", port=8000):
    """Serves the page for ``model_dir`` until Ctrl-C."""
    with WebServer(model_dir, host, port) as server:
        print(f"serving the page for {model_dir} at {server.url} (Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopped", flush=True)
