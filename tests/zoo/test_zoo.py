"""``pphumanseg zoo``: the catalogue of released models, installs from files (how users without
direct access and these tests bring weights in), downloads over HTTP through a temporary file, and
one-line errors that leave the cache as it was."""
import http.server
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import paddle
import pytest
from in_process import run_cli
from paddleseg.models import PPHumanSegLite

from pphumanseg import zoo
from pphumanseg.core.complexity import build_model, count_params
from pphumanseg.core.config import load_config
from pphumanseg.models import ConnectNet, load_weights
from pphumanseg.zoo.cache import CONFIGS_DIR

NAME = "pp_humanseg_v1_lite_portrait_398x224"


def cache_listing(home):
    return sorted(str(p.relative_to(home)) for p in Path(home).rglob("*")) if Path(home).exists() else []


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PPHUMANSEG_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def full_release_state(released_weights):
    """The release checkpoint as PaddleSeg ships it: PPHumanSegLite keys including the 98,712
    never-used ``_depthwise_separable_0`` parameters (random here; the shared file lacks them)."""
    state = PPHumanSegLite(num_classes=2).state_dict()
    state.update(paddle.load(str(released_weights)))
    return state


def assert_release_loaded(path, released_weights):
    reference = load_weights(ConnectNet(), str(released_weights)).state_dict()
    loaded = load_weights(ConnectNet(), path).state_dict()
    for key, value in reference.items():
        np.testing.assert_array_equal(loaded[key].numpy(), value.numpy())


def test_list_names_every_released_model_with_its_config(capsys):
    assert run_cli("zoo", "list") == 0
    table = capsys.readouterr().out
    assert len(zoo.RELEASED_MODELS) >= 7
    for model in zoo.RELEASED_MODELS.values():
        assert model.name in table and f"configs/{model.config}" in table
        assert model.checkpoint_url.endswith("_pretrained.zip")
        assert model.inference_url.endswith("_inference_model_with_softmax.zip")


@pytest.mark.parametrize("model", zoo.RELEASED_MODELS.values(), ids=lambda m: m.name)
def test_catalogue_params_and_input_size_are_those_of_its_config(model):
    config = load_config(str(CONFIGS_DIR / model.config))
    assert count_params(build_model(config)) == model.params
    resize = config.val_dataset_cfg["transforms"][0]
    assert tuple(resize["target_size"]) == model.input_size


@pytest.mark.parametrize("form", ["pdparams", "full_release_zip", "directory"])
def test_get_from_installs_a_checked_checkpoint(form, home, tmp_path, released_weights, capsys):
    if form == "pdparams":
        source = released_weights
    elif form == "full_release_zip":
        folder = tmp_path / f"{NAME}_pretrained"
        folder.mkdir()
        paddle.save(full_release_state(released_weights), str(folder / "model.pdparams"))
        source = tmp_path / "release.zip"
        with zipfile.ZipFile(source, "w") as archive:
            archive.write(folder / "model.pdparams", f"{folder.name}/model.pdparams")
    else:
        source = tmp_path / "unpacked"
        source.mkdir()
        (source / "model.pdparams").write_bytes(released_weights.read_bytes())
    assert run_cli("zoo", "get", NAME, "--from", source) == 0
    path = capsys.readouterr().out.strip()
    assert path == str(home / NAME / "checkpoint")
    assert_release_loaded(path, released_weights)
    assert_release_loaded(f"zoo:{NAME}", released_weights)
    assert not [name for name in os.listdir(home) if name.startswith(".")]


@pytest.mark.parametrize("case,message", [
    ("not_a_model", "not a checkpoint (no .pdparams file)"),
    ("truncated_zip", "damaged zip archive"),
    ("other_model", "does not match MobileSeg: parameters 426 missing"),
    ("unknown_name", "no released model named 'pp_humanseg_v1_lite_portait'; did you mean "
                     "pp_humanseg_v1_lite_portrait_398x224"),
])
def test_bad_installs_fail_in_one_line_and_leave_the_cache_as_it_was(case, message, home, tmp_path,
                                                                     released_weights, capsys):
    assert run_cli("zoo", "get", NAME, "--from", released_weights) == 0  # a good one to keep
    before = cache_listing(home)
    name, source = NAME, tmp_path / "bad.zip"
    if case == "not_a_model":
        with zipfile.ZipFile(source, "w") as archive:
            archive.writestr("README.txt", "no weights here")
    elif case == "truncated_zip":
        with zipfile.ZipFile(tmp_path / "good.zip", "w") as archive:
            archive.write(released_weights, "model.pdparams")
        data = (tmp_path / "good.zip").read_bytes()
        source.write_bytes(data[: len(data) // 2])
    elif case == "other_model":
        name, source = "pp_humanseg_v2_lite_portrait_256x144", released_weights
    else:
        name, source = "pp_humanseg_v1_lite_portait", released_weights
    capsys.readouterr()
    assert run_cli("zoo", "get", name, "--from", source) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and message in error, error
    assert cache_listing(home) == before


@pytest.fixture
def file_server(tmp_path):
    """Serves tmp_path/served on 127.0.0.1; a file named truncated.zip announces more bytes than
    it sends (a connection that drops mid-download)."""
    served = tmp_path / "served"
    served.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def do_GET(self):
            if self.path.endswith("truncated.zip"):
                body = (served / "truncated.zip").read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(2 * len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_url_downloads_once_into_the_cache(file_server, home, released_weights):
    served, base = file_server
    with zipfile.ZipFile(served / "release.zip", "w") as archive:
        archive.write(released_weights, "release_pretrained/model.pdparams")
    assert_release_loaded(f"{base}/release.zip", released_weights)
    (served / "release.zip").unlink()  # the second use reads the cache
    assert_release_loaded(f"{base}/release.zip", released_weights)


def test_a_truncated_download_names_the_url_and_leaves_nothing(file_server, home, released_weights):
    from pphumanseg.utils.errors import UsageError

    served, base = file_server
    (served / "truncated.zip").write_bytes(released_weights.read_bytes()[:1000])
    with pytest.raises(UsageError, match=rf"cannot download {base}/truncated.zip: truncated"):
        load_weights(ConnectNet(), f"{base}/truncated.zip")
    assert cache_listing(home) == []


def test_offline_get_names_the_url_and_the_from_alternative(tmp_path, cli_env):
    # A proxy on a closed loopback port stands in for a machine without network access.
    env = dict(cli_env, PPHUMANSEG_HOME=str(tmp_path / "cache"), https_proxy="http://127.0.0.1:9",
               http_proxy="http://127.0.0.1:9", no_proxy="")
    result = subprocess.run([sys.executable, "-m", "pphumanseg", "zoo", "get", NAME],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 2
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"pphumanseg zoo: error: cannot download "
                            f"{zoo.released_model(NAME).checkpoint_url} (")
    assert error.endswith(f"pphumanseg zoo get {NAME} --kind checkpoint --from FILE")
    assert cache_listing(tmp_path / "cache") == []


def test_a_fetch_that_finds_another_process_finished_first_keeps_its_install(home, tmp_path,
                                                                               released_weights):
    from pphumanseg.zoo.cache import _install

    installed = Path(zoo.install(NAME, "checkpoint", released_weights))
    before = (installed / "model.pdparams").stat().st_mtime_ns
    # What a data-parallel rank sees when another rank published the same download first.
    assert _install(installed, "checkpoint", released_weights, "a URL", None, replace=False) == str(installed)
    assert (installed / "model.pdparams").stat().st_mtime_ns == before
    assert not [name for name in os.listdir(home) if name.startswith(".")]
