"""The browser page (deploy/web) in Debian's headless Chromium with a fake camera playing generated
frames: it replaces the camera's background, agrees with Python's onnxruntime on a known frame,
reads deploy.yaml and model outputs with pphumanseg_deploy's rules, and shows bad input in the page."""
import base64
import json
import re
import shutil
import time

import cv2
import numpy as np
import pytest

from chromium import Chromium, write_y4m
from pphumanseg_deploy import DeployError, Predictor, foreground_probability
from pphumanseg_deploy.deploy_config import DeployConfig
from pphumanseg_deploy.preprocess import Preprocess

FRAMES_NEEDED = 30
STEADY_SECONDS = 3  # frame rate measured over this long once FRAMES_NEEDED frames are done
PROGRESS = "[performance.now(), pphumansegStats.framesProcessed]"
MESSAGE = "(m => m && !m.hidden && m.textContent)(document.getElementById('message'))"


@pytest.fixture(scope="module")
def browser(chromium_executable, clip_frames, tmp_path_factory):
    folder = tmp_path_factory.mktemp("chromium")
    clip = folder / "camera.y4m"
    write_y4m(clip, clip_frames)
    with Chromium(chromium_executable, str(folder / "profile"), clip=str(clip)) as browser:
        yield browser


def image_data(image_bgr):
    """A JavaScript expression for the page: the image as an RGBA ImageData, bytes as they are."""
    rgba = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGBA)
    encoded = base64.b64encode(rgba.tobytes()).decode()
    height, width = image_bgr.shape[:2]
    return f'new ImageData(Uint8ClampedArray.from(atob("{encoded}"), c => c.charCodeAt(0)), {width}, {height})'


def open_blank_page(browser, server):
    """A document of the server's origin without the app (for importing the page's modules)."""
    browser.navigate(server.url + "style.css")
    assert browser.devtools.evaluate("crossOriginIsolated", browser.page)


def test_page_replaces_the_camera_background_and_agrees_with_python(browser, serve_page, web_model, clip_frames,
                                                                    tmp_path):
    start = time.monotonic()
    with serve_page(web_model) as server:
        browser.navigate(server.url + "?backend=wasm&background=color")  # a colour shows the mask best
        stats = browser.wait_for(
            f"(s => s && (s.framesProcessed >= {FRAMES_NEEDED} || s.error) && s)(window.pphumansegStats)", 90)
        assert stats and stats["error"] is None, (stats, browser.devtools.console_messages()[-5:])
        first = browser.devtools.evaluate(PROGRESS, browser.page)
        time.sleep(STEADY_SECONDS)
        last = browser.devtools.evaluate(PROGRESS, browser.page)
        stats = browser.devtools.evaluate("pphumansegStats", browser.page)
        known_frame = clip_frames[0]
        in_page = browser.devtools.evaluate(f"pphumansegDebug.probabilityOf({image_data(known_frame)})",
                                            browser.page, timeout=60)
        screenshot = browser.screenshot()

    assert stats["state"] == "running" and stats["backend"] == "wasm"
    assert stats["crossOriginIsolated"] and stats["threads"] >= 2  # wasm threads need the isolation headers
    assert stats["video"] == {"width": 640, "height": 360} and stats["input"] == {"width": 398, "height": 224}
    assert 0.0 <= stats["mask"]["min"] <= stats["mask"]["mean"] <= stats["mask"]["max"] <= 1.0
    assert stats["lastFrame"]["modelMs"] > 0 and stats["fps"] > 0

    python = Predictor(str(web_model), runtime="onnx").predict_low_res(known_frame)
    page = np.asarray(in_page["data"], np.float32).reshape(in_page["height"], in_page["width"])
    assert page.shape == python.shape
    agreement = float(np.mean((page > 0.5) == (python > 0.5)))
    figures = {"backend": stats["backend"], "threads": stats["threads"], "video": "640x360", "input": "398x224",
               "fps": round((last[1] - first[1]) / (last[0] - first[0]) * 1000, 1),
               "model_ms_mean": round(stats["modelMsMean"], 1),
               "last_frame_ms": {key: round(value, 1) for key, value in stats["lastFrame"].items()},
               "mask_agreement": round(agreement, 5),
               "max_probability_difference": round(float(np.abs(page - python).max()), 5),
               "seconds": round(time.monotonic() - start, 1)}
    print("web page:", json.dumps(figures))
    assert agreement >= 0.99

    path = tmp_path / "page.png"
    path.write_bytes(screenshot)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[0] > 360 and image.shape[1] > 640
    assert image.std() > 20 and len(np.unique(image.reshape(-1, 3), axis=0)) > 1000, "the screenshot is blank"
    print(f"screenshot: {path}")


DEPLOY_CASES = {
    "exported": {"transforms": [{"type": "Resize", "target_size": [398, 224]}, {"type": "Normalize"}]},
    "keep_ratio": {"transforms": [{"type": "Resize", "target_size": [512, 300], "keep_ratio": True,
                                   "size_divisor": 32}, {"type": "Normalize", "mean": [0.4, 0.5, 0.6], "std": 0.25}]},
    "long": {"transforms": [{"type": "ResizeByLong", "long_size": 301}]},
    "short": {"transforms": [{"type": "ResizeByShort", "short_size": 250, "max_size": 333}]},
    "fixed": {"transforms": [{"type": "ResizeByLong", "long_size": 300}], "input_shape": [1, 3, 144, 256],
              "output_op": "foreground"},
    "dynamic": {"transforms": [{"type": "Resize", "target_size": [256, 144], "interp": "NEAREST"}],
                "input_shape": [-1, 3, -1, -1], "output_op": "argmax"},
    "output_op": {"transforms": [], "output_op": "sigmoid"},
    "unknown transform": {"transforms": [{"type": "RandomBlur"}]},
    "zero std": {"transforms": [{"type": "Normalize", "std": [0.5, 0, 0.5]}]},
    "no target size": {"transforms": [{"type": "Resize", "interp": "LINEAR"}]},
}
SIZES = [(640, 360), (1280, 720), (97, 53)]


def field(message):
    """The deploy.yaml field an error message names, e.g. Deploy.transforms[0] (Resize)."""
    return re.search(r"Deploy\.\w+(\[\d+\] \(\w+\))?", message).group(0)


def python_view(folder, document):
    """What pphumanseg_deploy makes of a deploy.yaml: input sizes and output_op, or the error."""
    folder.mkdir()
    (folder / "deploy.yaml").write_text(json.dumps({"Deploy": {"model": "m", "params": "p", **document}}))
    try:
        config = DeployConfig(str(folder))
        preprocess = Preprocess(config.transforms, config.fixed_input_size, source="deploy.yaml")
    except DeployError as error:
        return {"error": str(error).replace(str(folder / "deploy.yaml"), "deploy.yaml")}
    return {"sizes": [list(preprocess.input_size(*size)) for size in SIZES], "outputOp": config.output_op}


def test_page_reads_deploy_yaml_with_the_python_rules(browser, serve_page, web_model, tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (53, 97, 3), dtype=np.uint8)
    with serve_page(web_model) as server:
        open_blank_page(browser, server)
        page = browser.devtools.evaluate(f"""(async () => {{
            const {{ parseDeployConfig }} = await import("/deploy_config.mjs");
            const cases = {json.dumps({name: json.dumps({"Deploy": {"model": "m", "params": "p", **document}})
                                       for name, document in DEPLOY_CASES.items()})};
            const image = {image_data(image)};
            const views = {{}};
            for (const [name, text] of Object.entries(cases)) {{
                try {{
                    const config = parseDeployConfig(text);
                    const tensor = config.preprocess.tensorData(image);
                    views[name] = {{ sizes: {json.dumps(SIZES)}.map(([w, h]) => config.preprocess.inputSize(w, h)),
                                     outputOp: config.outputOp, tensor: Array.from(tensor.data) }};
                }} catch (error) {{
                    views[name] = {{ error: error.message }};
                }}
            }}
            return views;
        }})()""", browser.page)
    for name, document in DEPLOY_CASES.items():
        expected = python_view(tmp_path / name.replace(" ", "_"), document)
        view = page[name]
        if "error" in expected:
            # Same file and field; the page may word the reason its own way.
            assert "error" in view, (name, view)
            assert view["error"].startswith("deploy.yaml: ") and field(view["error"]) == field(expected["error"]), \
                (name, view, expected)
            continue
        assert {"sizes": view["sizes"], "outputOp": view["outputOp"]} == expected, name
        config = DeployConfig(str(tmp_path / name.replace(" ", "_")))
        preprocess = Preprocess(config.transforms, config.fixed_input_size)
        python = preprocess(image)
        tensor = np.asarray(view["tensor"], np.float32).reshape(python.shape)
        # Each resize rounds to 8 bits; OpenCV's fixed-point weights round some pixels of this noise
        # image one level the other way (about 13 % when enlarging it).
        resizes = len(preprocess.resizes) + (preprocess.fixed_size is not None)
        levels = np.abs(tensor - python) / preprocess.scale[None, :, None, None]
        assert levels.max() < resizes + 0.01 and levels.mean() < 0.3, (name, levels.max(), levels.mean())


def test_page_refuses_an_interpolation_it_cannot_apply(browser, serve_page, web_model, tmp_path):
    folder = tmp_path / "cubic"
    folder.mkdir()
    document = {"Deploy": {"model": "m", "params": "p", "transforms": [
        {"type": "Resize", "target_size": [398, 224], "interp": "CUBIC"}]}}
    (folder / "deploy.yaml").write_text(json.dumps(document))
    shutil.copy(web_model / "model.onnx", folder)
    with serve_page(folder) as server:  # Python's pre-processing accepts CUBIC, so serve does
        browser.navigate(server.url)
        message = browser.wait_for(MESSAGE, 30)
    assert message == ("deploy.yaml: Deploy.transforms[0] (Resize): interp CUBIC is not supported by the browser "
                       "page (LINEAR, NEAREST)")


OUTPUTS = {
    "foreground": ("foreground", [1, 1, 4, 5], "float32", lambda rng: rng.random((1, 1, 4, 5))),
    "softmax": ("softmax", [1, 2, 4, 5], "float32", lambda rng: np.stack([0.3 * np.ones((4, 5)), 0.7 * np.ones((4, 5))])[None]),
    "none, large logits": ("none", [1, 2, 4, 5], "float32", lambda rng: rng.normal(0, 1000, (1, 2, 4, 5))),
    "null, three classes": (None, [1, 3, 4, 5], "float32", lambda rng: rng.normal(0, 3, (1, 3, 4, 5))),
    "null, probabilities": (None, [1, 2, 4, 5], "float32", lambda rng: np.stack([np.full((4, 5), 0.25), np.full((4, 5), 0.75)])[None]),
    "argmax int64": ("argmax", [1, 4, 5], "int64", lambda rng: rng.integers(0, 3, (1, 4, 5))),
    "null int32 labels": (None, [1, 1, 4, 5], "int32", lambda rng: rng.integers(0, 2, (1, 1, 4, 5))),
    "null float labels": (None, [1, 1, 4, 5], "float32", lambda rng: rng.integers(0, 3, (1, 1, 4, 5)).astype(float)),
    "null float probability": (None, [1, 1, 4, 5], "float32", lambda rng: rng.random((1, 1, 4, 5))),
    "foreground of two channels": ("foreground", [1, 2, 4, 5], "float32", lambda rng: rng.random((1, 2, 4, 5))),
    "argmax of scores": ("argmax", [1, 2, 4, 5], "float32", lambda rng: rng.random((1, 2, 4, 5))),
    "null out of range": (None, [1, 1, 4, 5], "float32", lambda rng: rng.normal(0, 5, (1, 1, 4, 5))),
}


def test_page_reads_model_outputs_with_the_python_rules(browser, serve_page, web_model):
    rng = np.random.default_rng(1)
    arrays = {name: make(rng).astype(dtype) for name, (_, _, dtype, make) in OUTPUTS.items()}
    tensors = {name: {"op": op, "dims": dims, "type": dtype, "data": arrays[name].ravel().tolist()}
               for name, (op, dims, dtype, _) in OUTPUTS.items()}
    with serve_page(web_model) as server:
        open_blank_page(browser, server)
        page = browser.devtools.evaluate(f"""(async () => {{
            const ort = await import("/ort/ort.all.min.mjs");
            const {{ foregroundProbability }} = await import("/segmenter.mjs");
            const arrays = {{ float32: Float32Array, int32: Int32Array, int64: BigInt64Array }};
            const results = {{}};
            for (const [name, t] of Object.entries({json.dumps(tensors)})) {{
                const data = t.type === "int64" ? BigInt64Array.from(t.data.map(BigInt)) : arrays[t.type].from(t.data);
                try {{
                    const p = foregroundProbability(new ort.Tensor(t.type, data, t.dims), t.op);
                    results[name] = {{ data: Array.from(p.data), width: p.width, height: p.height }};
                }} catch (error) {{
                    results[name] = {{ error: error.message }};
                }}
            }}
            return results;
        }})()""", browser.page)
    for name, (op, _, _, _) in OUTPUTS.items():
        try:
            expected = foreground_probability(arrays[name], op)
        except DeployError:
            assert "error" in page[name], name
            continue
        assert "error" not in page[name], (name, page[name])
        got = np.asarray(page[name]["data"], np.float32).reshape(page[name]["height"], page[name]["width"])
        np.testing.assert_allclose(got, expected, atol=1e-6, err_msg=name)


def test_page_shows_a_missing_model_onnx(browser, serve_page, web_model, tmp_path):
    folder = tmp_path / "no_onnx"
    folder.mkdir()
    shutil.copy(web_model / "deploy.yaml", folder)
    shutil.copy(web_model / "model.onnx", folder)
    with serve_page(folder) as server:  # serve refuses such a folder; here it goes after serve checked it
        (folder / "model.onnx").unlink()
        browser.navigate(server.url)
        message = browser.wait_for(MESSAGE, 30)
    assert message == "the model directory has no model.onnx (HTTP 404); export with --formats onnx"


@pytest.mark.parametrize("camera, message", [
    ("denied", "camera permission denied: allow the camera for this page and reload"),
    ("missing", "no camera found: connect one and reload"),
])
def test_page_shows_a_denied_or_missing_camera(chromium_executable, serve_page, web_model, tmp_path, camera, message):
    clip = tmp_path / "camera.y4m"
    write_y4m(clip, [np.zeros((36, 64, 3), np.uint8)])
    options = {"clip": str(clip), "allow_camera": False} if camera == "denied" else {"clip": None}
    with serve_page(web_model) as server, Chromium(chromium_executable, str(tmp_path / "profile"), **options) as browser:
        browser.navigate(server.url + "?backend=wasm")
        assert browser.wait_for(MESSAGE, 60) == message
