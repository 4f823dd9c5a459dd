"""The background-replacement app: images, folders, videos (with --flow), outputs complete and
soft, and one-line errors for bad models, inputs and outputs."""
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from pphumanseg.synth import render_clip
from pphumanseg_deploy import DeployError
from pphumanseg_deploy.app import run

FRAMES = 8


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A generated 160x96 clip as an mp4, its first frame as a PNG, and a folder of two frames."""
    folder = tmp_path_factory.mktemp("clip")
    frames = [frame for frame, _ in render_clip(size=(160, 96), frames=FRAMES, seed=5)]
    writer = cv2.VideoWriter(str(folder / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25, (160, 96))
    for frame in frames:
        writer.write(frame)
    writer.release()
    cv2.imwrite(str(folder / "frame.png"), frames[0])
    (folder / "frames").mkdir()
    for index in (0, 1):
        cv2.imwrite(str(folder / "frames" / f"{index:03d}.jpg"), frames[index])
    return folder


def count_frames(path):
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    return count


def test_image_gets_composite_and_soft_mask(connectnet_exports, clip, tmp_path):
    save = tmp_path / "out" / "frame.png"
    summary = run(str(connectnet_exports["softmax"]), str(clip / "frame.png"), str(save), bg="#00ff00",
                  runtime="onnx")
    result, mask = cv2.imread(str(save)), cv2.imread(str(tmp_path / "out" / "frame_mask.png"), 0)
    assert result.shape == (96, 160, 3) and mask.shape == (96, 160)
    assert summary["frames"] == 1 and sorted(os.listdir(tmp_path / "out")) == ["frame.png", "frame_mask.png"]
    assert np.count_nonzero((mask > 0) & (mask < 255)) > 0  # soft alpha
    frame = cv2.imread(str(clip / "frame.png"))
    alpha = mask[..., None] / 255.0
    expected = alpha * frame + (1 - alpha) * np.array([0, 255, 0])
    assert np.abs(result - expected).max() <= 2


def test_folder_with_image_background(connectnet_exports, clip, tmp_path):
    summary = run(str(connectnet_exports["softmax"]), str(clip / "frames"), str(tmp_path / "out"),
                  bg=str(clip / "frame.png"), runtime="onnx", post=True)
    assert summary["frames"] == 2
    assert sorted(os.listdir(tmp_path / "out")) == ["000.png", "000_mask.png", "001.png", "001_mask.png"]


def test_vertical_frame_keeps_its_size(connectnet_exports, clip, tmp_path):
    portrait = cv2.rotate(cv2.imread(str(clip / "frame.png")), cv2.ROTATE_90_CLOCKWISE)
    cv2.imwrite(str(tmp_path / "portrait.png"), portrait)
    run(str(connectnet_exports["softmax"]), str(tmp_path / "portrait.png"), str(tmp_path / "p.png"),
        vertical=True, runtime="onnx")
    assert cv2.imread(str(tmp_path / "p_mask.png"), 0).shape == (160, 96)


def test_video_with_flow_through_the_cli(connectnet_exports, clip, tmp_path):
    save = tmp_path / "video.mp4"
    result = subprocess.run(
        [sys.executable, "-m", "pphumanseg", "infer", "--model_dir", str(connectnet_exports["softmax"]),
         "--input", str(clip / "clip.mp4"), "--bg", "blur", "--flow", "--save", str(save), "--runtime", "onnx"],
        capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "frame" in result.stderr  # the tqdm progress bar
    assert count_frames(save) == FRAMES and count_frames(tmp_path / "video_mask.mp4") == FRAMES
    assert sorted(os.listdir(tmp_path)) == ["video.mp4", "video_mask.mp4"]


def test_flow_smooths_the_frame_the_network_saw_resizing_each_frame_once(connectnet_exports, clip,
                                                                         monkeypatch):
    from pphumanseg_deploy import Predictor
    from pphumanseg_deploy.app import BackgroundReplacer

    frame = cv2.imread(str(clip / "frame.png"))
    replacer = BackgroundReplacer(Predictor(str(connectnet_exports["softmax"]), runtime="onnx"),
                                  background=lambda frame, preview: np.zeros_like(frame), flow=True)
    real_resize, frame_resizes = cv2.resize, []

    def resize(image, *args, **kwargs):
        frame_resizes.extend([image.shape] if image.shape == frame.shape else [])
        return real_resize(image, *args, **kwargs)

    monkeypatch.setattr(cv2, "resize", resize)
    alphas = [replacer(frame)[1] for _ in range(2)]
    assert frame_resizes == [frame.shape] * 2  # once per frame, to the network's input size
    assert alphas[1].shape == frame.shape[:2] and alphas[1].dtype == np.uint8


def test_entry_script_for_deploy_alone(connectnet_exports, clip, tmp_path):
    script = os.path.join(os.path.dirname(__file__), "../../deploy/python/infer.py")
    result = subprocess.run([sys.executable, script, "--model_dir", str(connectnet_exports["softmax"]),
                             "--input", str(clip / "frame.png"), "--save", str(tmp_path / "x.png"),
                             "--runtime", "lite", "--quiet"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "x.png").is_file() and (tmp_path / "x_mask.png").is_file()


def _broken_model(folder, source, breakage):
    shutil.copytree(source, folder)
    if breakage == "missing params":
        os.remove(folder / "model.pdiparams")
    elif breakage == "malformed yaml":
        (folder / "deploy.yaml").write_text("Deploy:\n  model: model.pdmodel\n  transforms: [\n")
    elif breakage == "no transforms":
        (folder / "deploy.yaml").write_text("Deploy:\n  model: model.pdmodel\n  params: model.pdiparams\n")
    return folder


@pytest.mark.parametrize("breakage, message", [
    ("missing params", r"model file .*model.pdiparams not found"),
    ("malformed yaml", r"deploy.yaml line \d+: "),
    ("no transforms", r"missing field 'Deploy.transforms'"),
])
def test_bad_model_directory(connectnet_exports, clip, tmp_path, breakage, message):
    model = _broken_model(tmp_path / "model", connectnet_exports["softmax"], breakage)
    with pytest.raises(DeployError, match=message) as error:
        run(str(model), str(clip / "frame.png"), str(tmp_path / "o.png"))
    assert "\n" not in str(error.value)


def _bad_input(tmp_path, clip, case):
    """(input, save) for one bad-input case."""
    if case == "unreadable video":
        (tmp_path / "bad.mp4").write_bytes(b"not a video at all" * 10)
        return tmp_path / "bad.mp4", tmp_path / "o.mp4"
    if case == "zero-frame video":
        writer = cv2.VideoWriter(str(tmp_path / "empty.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25, (64, 48))
        writer.release()
        return tmp_path / "empty.mp4", tmp_path / "o.mp4"
    if case == "unwritable output":
        (tmp_path / "a_file").write_text("")
        return clip / "frame.png", tmp_path / "a_file" / "o.png"
    if case == "camera":
        return "camera:57", tmp_path / "o.mp4"
    if case == "missing input":
        return tmp_path / "nothing.png", tmp_path / "o.png"
    if case == "video to image":
        return clip / "clip.mp4", tmp_path / "o.png"
    raise AssertionError(case)


@pytest.mark.parametrize("case, message", [
    ("unreadable video", r"(not a readable video|no readable frames)"),
    ("zero-frame video", r"(not a readable video|no readable frames)"),
    ("unwritable output", r"cannot create the folder"),
    ("camera", r"camera 57 is not available"),
    ("missing input", r"no such file or folder"),
    ("video to image", r"a video output needs one of"),
])
def test_bad_input_or_output(connectnet_exports, clip, tmp_path, case, message):
    source, save = _bad_input(tmp_path, clip, case)
    with pytest.raises(DeployError, match=message) as error:
        run(str(connectnet_exports["softmax"]), str(source), str(save), runtime="onnx")
    assert "\n" not in str(error.value)
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".partial")]


def test_folder_refuses_outputs_that_would_collide_or_overwrite_inputs(connectnet_exports, clip, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    shutil.copy(clip / "frame.png", folder / "a.png")
    model = str(connectnet_exports["softmax"])
    with pytest.raises(DeployError, match="is the input folder"):
        run(model, str(folder), str(folder), runtime="onnx")
    shutil.copy(clip / "frame.png", folder / "a.jpg")
    with pytest.raises(DeployError, match=r"several images named a\.\* would write the same a\.png"):
        run(model, str(folder), str(tmp_path / "out"), runtime="onnx")
    assert sorted(os.listdir(folder)) == ["a.jpg", "a.png"]


def test_cli_error_is_one_line(clip, tmp_path):
    result = subprocess.run([sys.executable, "-m", "pphumanseg", "infer", "--model_dir", str(tmp_path),
                             "--input", str(clip / "frame.png"), "--save", str(tmp_path / "o.png")],
                            capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("pphumanseg infer: error: ")
    assert "deploy.yaml: not found" in result.stderr


def test_video_encoding_failure_is_an_error_and_leaves_nothing(tmp_path):
    from pphumanseg_deploy import app

    save = tmp_path / "out.mp4"
    output = app._VideoOutput(str(save), 25.0, (64, 48))
    # A float64 mask cannot be converted for the mask video: the encoder thread's step fails.
    frame, alpha = np.zeros((48, 64, 3), np.uint8), np.zeros((48, 64), np.float64)
    with pytest.raises(DeployError, match="encoding failed"):
        try:
            for _ in range(20):  # more than the queue holds: write() must not block
                output.write(frame, alpha)
        except DeployError:
            output.discard()  # what process_stream does on any error
            raise
        output.close()
    assert os.listdir(tmp_path) == []
