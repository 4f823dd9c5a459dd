"""``pphumanseg zoo get --kind inference``: an inference model in PaddleSeg's layout (as the
official ``*_inference_model_with_softmax.zip`` holds it) is installed only if Predictor opens it,
and the installed directory is what ``pphumanseg infer --model_dir`` takes."""
import shutil
import zipfile

import numpy as np
import pytest
from in_process import run_cli

from pphumanseg_deploy import Predictor

NAME = "pp_humanseg_v1_lite_portrait_398x224"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PPHUMANSEG_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def zip_directory(folder, archive_path, inner_name):
    with zipfile.ZipFile(archive_path, "w") as archive:
        for path in folder.iterdir():
            archive.write(path, f"{inner_name}/{path.name}")
    return archive_path


def test_official_layout_installs_and_predicts(paddleseg_exports, portrait_frame, home, tmp_path,
                                               capsys):
    source = zip_directory(paddleseg_exports["softmax"], tmp_path / "inference.zip",
                           f"portrait_{NAME}_inference_model_with_softmax")
    assert run_cli("zoo", "get", NAME, "--kind", "inference", "--from", source) == 0
    installed = capsys.readouterr().out.strip()
    assert installed == str(home / NAME / "inference")
    image = portrait_frame[0]
    np.testing.assert_array_equal(Predictor(installed).predict(image),
                                  Predictor(str(paddleseg_exports["softmax"])).predict(image))


def test_an_inference_directory_without_its_graph_is_refused(paddleseg_exports, home, tmp_path,
                                                             capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(paddleseg_exports["softmax"] / "deploy.yaml", broken / "deploy.yaml")
    assert run_cli("zoo", "get", NAME, "--kind", "inference", "--from", broken) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "not a usable inference model" in error, error
    assert not (home / NAME).exists()
