"""Inference benchmark for issue 7: latency per runtime, app frames/s, and the effect of --flow.

One run prints JSON lines (one per measurement) and nothing else on stdout:

1. ``latency``: median milliseconds of the network alone (pre-processed input in, raw output out)
   at 1 and 2 threads (``--threads``) for ConnectNet at 398x224 and 256x144 and paddleseg's reference
   ``PPHumanSegLite`` at 398x224, each exported by ``pphumanseg export`` twice (``output_op``
   softmax and foreground, fixed input shape), on Paddle Inference with oneDNN on and off, ONNX
   Runtime and Paddle Lite x86; ONNX Runtime int8 (``precision: int8``, the post-training
   variants of ``bench_int8.py``, with ``speedup_vs_fp32`` timed beside fp32) for the ConnectNet
   foreground exports; and MediaPipe's selfie-segmentation landscape model (256x144, the Google
   Meet model) on LiteRT. Each line carries ``ratio_to_mediapipe`` = latency / MediaPipe
   landscape latency at the same thread count.
2. ``app``: end-to-end frames/s of ``pphumanseg_deploy.app.run`` (decode, predict, composite,
   encode the composite and mask videos) on a generated 1280x720 clip, with and without --flow,
   at each ``--threads`` count (``pphumanseg infer`` uses the cores but one by default).
3. ``flow``: a ConnectNet trained briefly on generated data
   (``--train_iters``, through pphumanseg's training library) predicts a held-out generated clip
   with ground truth; flicker rate (pphumanseg.metrics.temporal.TemporalStability) and mIoU
   with and without flow smoothing.

Latency does not depend on the weights, so part 1 uses seeded random weights.

Prerequisites for the MediaPipe line (else it prints why it is missing):
  - ``pip install --no-deps ai-edge-litert backports.strenum`` (LiteRT's Python interpreter;
    ``--no-deps`` keeps numpy < 2; its other requirements are already installed), and
  - the model file: ``npm pack @mediapipe/selfie_segmentation && tar xzf mediapipe-*.tgz``, which
    gives ``package/selfie_segmentation_landscape.tflite``; pass it with ``--mediapipe`` (the script
    runs npm itself when it finds npm and no file is given).

Usage: python scripts/bench_infer.py [--work_dir output/bench_infer] [--repeats 50]
           [--parts latency,app,flow] [--threads 1,2] [--train_iters 600]
Report ``uptime`` alongside: the figures depend on what else runs on the machine.
"""
import argparse
import contextlib
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = {  # name -> (config, opts, input size w x h)
    "ConnectNet-398x224": ("configs/connectnet/connectnet_portrait_398x224.yml", [], (398, 224)),
    "ConnectNet-256x144": ("configs/connectnet/connectnet_portrait_256x144.yml", [], (256, 144)),
    "PPHumanSegLite-398x224": ("configs/connectnet/connectnet_portrait_398x224.yml",
                               ["model.type=PPHumanSegLite"], (398, 224)),
}
OUTPUT_OPS = ("softmax", "foreground")


@contextlib.contextmanager
def stdout_to_stderr():
    """Sends everything written to stdout (Python and C++ alike: training logs, paddle2onnx) to
    stderr, so stdout carries only the JSON lines."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def emit(record):
    print(json.dumps(record), flush=True)


def median_ms(function, repeats, warmup=5):
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def export_models(work_dir):
    """Exports every model of MODELS with each of OUTPUT_OPS once (kept in work_dir); returns
    (name, output_op) -> model_dir."""
    import paddle

    from pphumanseg.core.config import ComponentBuilder, load_config
    from pphumanseg.core.export import export

    folders = {}
    for name, (config, opts, (width, height)) in MODELS.items():
        config_path = os.path.join(REPO, config)
        weights = os.path.join(work_dir, f"{name}.pdparams")
        for output_op in OUTPUT_OPS:
            folder = os.path.join(work_dir, f"{name}-{output_op}")
            folders[name, output_op] = folder
            if os.path.isfile(os.path.join(folder, "model_x86.nb")):
                continue
            if not os.path.isfile(weights):
                paddle.seed(0)
                model = ComponentBuilder(load_config(config_path, opts), config_path).build("model")
                paddle.save(model.state_dict(), weights)
            export(config_path, weights, folder, output_op, [1, 3, height, width], ["paddle", "onnx", "lite"],
                   opts)
    return folders


def bench_latency(folders, repeats, thread_counts):
    from pphumanseg_deploy import Predictor

    records = []
    for (name, output_op), folder in folders.items():
        for threads in thread_counts:
            variants = [("paddle", {"onednn": True}), ("paddle", {"onednn": False}), ("onnx", {}), ("lite", {})]
            for runtime, options in variants:
                predictor = Predictor(folder, runtime=runtime, threads=threads, **options)
                width, height = MODELS[name][2]
                batch = predictor.preprocess(np.zeros((height, width, 3), np.uint8))
                record = {"kind": "latency", "model": name, "output_op": output_op, "runtime": runtime,
                          "threads": threads,
                          "median_ms": round(median_ms(lambda: predictor.run_network(batch), repeats), 3)}
                if runtime == "paddle":
                    record["onednn"] = options["onednn"]
                if runtime == "lite":
                    from paddlelite.lite import MobileConfig

                    # paddlelite 2.13's Python MobileConfig has no set_threads.
                    record["threads_applied"] = hasattr(MobileConfig, "set_threads")
                records.append(record)
    return records


def bench_int8_latency(folders, repeats, thread_counts):
    """ONNX Runtime int8 against fp32 for each ConnectNet foreground export: the post-training
    variants of ``bench_int8.py`` (calibrated on 16 seeded generated frames), timed beside the
    fp32 model at each thread count. Their mask agreement is measured by ``bench_int8.py``."""
    import logging

    from bench_int8 import generated_frames, quantize_variants, timed_sessions
    from pphumanseg_deploy import Predictor

    records = []
    for (name, output_op), folder in folders.items():
        if output_op != "foreground" or not name.startswith("ConnectNet"):
            continue
        fp32_path = os.path.join(folder, "model.onnx")
        preprocess = Predictor(folder, runtime="onnx").preprocess
        calibration = [preprocess(frame) for frame in generated_frames(3, 16)]
        logging.disable(logging.WARNING)  # the quantiser logs every tensor
        try:
            with stdout_to_stderr():
                paths = quantize_variants(fp32_path, os.path.join(folder, "int8"), calibration, keep_float=8)
        finally:
            logging.disable(logging.NOTSET)
        for threads in thread_counts:
            timings = timed_sessions(fp32_path, paths, calibration[0], threads, repeats)
            _, _, fp32_ms = next(timings)
            for variant, _, int8_ms in timings:
                records.append({"kind": "latency", "model": name, "output_op": output_op, "runtime": "onnx",
                                "precision": "int8", "variant": variant, "threads": threads,
                                "median_ms": round(int8_ms, 3), "fp32_median_ms": round(fp32_ms, 3),
                                "speedup_vs_fp32": round(fp32_ms / int8_ms, 2)})
    return records


def find_mediapipe(work_dir, given):
    if given:
        return given if os.path.isfile(given) else None
    found = glob.glob(os.path.join(work_dir, "package", "selfie_segmentation_landscape.tflite"))
    if found:
        return found[0]
    if shutil.which("npm") is None:
        return None
    result = subprocess.run(["npm", "pack", "@mediapipe/selfie_segmentation"], cwd=work_dir,
                            capture_output=True, text=True)
    archives = glob.glob(os.path.join(work_dir, "mediapipe-selfie_segmentation-*.tgz"))
    if result.returncode != 0 or not archives:
        return None
    subprocess.run(["tar", "xzf", archives[0]], cwd=work_dir, check=True)
    path = os.path.join(work_dir, "package", "selfie_segmentation_landscape.tflite")
    return path if os.path.isfile(path) else None


def bench_mediapipe(work_dir, given, repeats, thread_counts):
    """MediaPipe landscape latency per thread count, or a record saying why it is missing."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        return {"kind": "latency", "model": "MediaPipe-landscape-256x144", "unavailable":
                f"ai_edge_litert not importable ({error}); pip install --no-deps ai-edge-litert backports.strenum"}
    path = find_mediapipe(work_dir, given)
    if path is None:
        return {"kind": "latency", "model": "MediaPipe-landscape-256x144", "unavailable":
                "selfie_segmentation_landscape.tflite not found (npm pack @mediapipe/selfie_segmentation)"}
    medians = {}
    for threads in thread_counts:
        interpreter = Interpreter(model_path=path, num_threads=threads)
        interpreter.allocate_tensors()
        detail = interpreter.get_input_details()[0]
        frame = np.random.default_rng(0).random(detail["shape"], dtype=np.float32)  # RGB / 255, NHWC

        def run():
            interpreter.set_tensor(detail["index"], frame)
            interpreter.invoke()

        medians[threads] = round(median_ms(run, repeats), 3)
    return medians


def with_mediapipe_ratio(record, mediapipe):
    if "unavailable" not in mediapipe:
        record["ratio_to_mediapipe"] = round(record["median_ms"] / mediapipe[record["threads"]], 2)
    return record


def bench_app(folder, work_dir, runtime, thread_counts, frames=90):
    """The app's frames/s writing both videos, flow off and on, per model thread count."""
    from pphumanseg.synth import write_clip
    from pphumanseg_deploy.app import run

    clip = os.path.join(work_dir, "clip_1280x720.mp4")
    if not os.path.isfile(clip):
        write_clip(clip, size=(1280, 720), frames=frames, seed=11)
    records = []
    for flow in (False, True):
        for threads in thread_counts:
            summary = run(folder, clip, os.path.join(work_dir, f"app_flow{int(flow)}.mp4"), bg="blur",
                          flow=flow, runtime=runtime, threads=threads, progress=False)
            records.append({"kind": "app", "model_dir": os.path.basename(folder), "runtime": runtime,
                            "threads": threads, "size": "1280x720",
                            "flow": flow, "frames": summary["frames"], "fps": round(summary["fps"], 2)})
    return records


def evaluate_flow(work_dir, train_iters):
    """Trains ConnectNet briefly on generated data, then measures flicker and mIoU on a held-out
    generated clip, with and without FlowSmoother."""
    from pphumanseg.core.export import export
    from pphumanseg.core.train import train_from_config
    from pphumanseg.metrics.temporal import TemporalStability
    from pphumanseg.synth import render_clip
    from pphumanseg_deploy import Predictor
    from pphumanseg_deploy.flow import FlowSmoother
    from pphumanseg_deploy.predictor import upsample

    data = os.path.join(work_dir, "synth_data")
    if not os.path.isfile(os.path.join(data, "train.txt")):
        subprocess.run([sys.executable, "-m", "pphumanseg", "synth", "--out", data, "--videos", "10",
                        "--frames", "20", "--size", "398x224", "--seed", "1"], check=True,
                       stdout=subprocess.DEVNULL)
    config = os.path.join(REPO, MODELS["ConnectNet-398x224"][0])
    opts = [f"train_dataset.dataset_root={data}", f"val_dataset.dataset_root={data}"]
    train_dir = os.path.join(work_dir, "trained")
    weights = os.path.join(train_dir, f"iter_{train_iters}", "model.pdparams")
    model_dir = os.path.join(work_dir, f"trained_export_{train_iters}")
    with stdout_to_stderr():
        if not os.path.isfile(weights):
            # The config's learning rate (0.1) is for batches of 128; at 0.1 with batches of 8
            # the person channel of the ReLU-ended classifier died within 300 iterations.
            train_from_config(config, opts, save_dir=train_dir, iters=train_iters, batch_size=8,
                              learning_rate=0.02, save_interval=train_iters, log_iters=50)
        if not os.path.isfile(os.path.join(model_dir, "model.onnx")):
            export(config, weights, model_dir, "softmax", [1, 3, 224, 398], ["paddle", "onnx"], opts)
    predictor = Predictor(model_dir, runtime="onnx", threads=2)
    records = []
    for seed in (101, 102, 103):
        frames, masks = zip(*render_clip(size=(640, 360), frames=40, seed=seed))
        raw = [predictor.predict_low_res(frame) for frame in frames]
        smoother = FlowSmoother()
        smooth = [smoother(frame, probability) for frame, probability in zip(frames, raw)]
        for name, maps in (("no_flow", raw), ("flow", smooth)):
            predictions = [(upsample(p, 640, 360) > 0.5).astype(np.uint8) for p in maps]
            stability = TemporalStability()
            for t in range(len(frames) - 1):
                stability.update(predictions[t], predictions[t + 1], masks[t], masks[t + 1])
            intersection = [sum(np.count_nonzero((p == c) & (m == c)) for p, m in zip(predictions, masks)) for c in (0, 1)]
            union = [sum(np.count_nonzero((p == c) | (m == c)) for p, m in zip(predictions, masks)) for c in (0, 1)]
            records.append({"kind": "flow", "clip_seed": seed, "smoothing": name, "train_iters": train_iters,
                            "flicker_rate": round(stability.result()["flicker_rate"], 5),
                            "miou": round(100.0 * float(np.mean(np.divide(intersection, union))), 2)})
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work_dir", default=os.path.join(REPO, "output", "bench_infer"))
    parser.add_argument("--repeats", type=int, default=50, help="timed runs per latency median")
    parser.add_argument("--mediapipe", help="path to selfie_segmentation_landscape.tflite")
    parser.add_argument("--parts", default="latency,app,flow",
                        help="comma-separated subset of latency, app, flow (app runs the fastest runtime and "
                             "output op when latency is measured, else the foreground export on onnx)")
    parser.add_argument("--threads", default="1,2", type=lambda text: [int(n) for n in text.split(",")],
                        help="comma-separated thread counts (pin with taskset to measure on chosen cores)")
    parser.add_argument("--train_iters", type=int, default=600, help="training iterations for the flow evaluation")
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    emit({"kind": "machine", "cpus": os.cpu_count(), "load_average": os.getloadavg()})
    parts = set(args.parts.split(","))
    unknown = parts - {"latency", "app", "flow"}
    if unknown:
        parser.error(f"--parts: unknown part(s) {sorted(unknown)}")
    with stdout_to_stderr():
        folders = export_models(args.work_dir) if parts & {"latency", "app"} else {}
    app_op, runtime = "foreground", "onnx"
    if "latency" in parts:
        mediapipe = bench_mediapipe(args.work_dir, args.mediapipe, args.repeats, args.threads)
        if "unavailable" in mediapipe:
            emit(mediapipe)
        else:
            for threads, value in mediapipe.items():
                emit({"kind": "latency", "model": "MediaPipe-landscape-256x144", "runtime": "litert",
                      "threads": threads, "median_ms": value, "ratio_to_mediapipe": 1.0})
        latency = bench_latency(folders, args.repeats, args.threads)
        # The app builds its Predictor with default options (oneDNN on for Paddle Inference).
        best = min((r for r in latency if r["model"] == "ConnectNet-398x224" and r["threads"] == max(args.threads)
                    and r.get("onednn", True)), key=lambda r: r["median_ms"])
        app_op, runtime = best["output_op"], best["runtime"]
        for record in latency:
            emit(with_mediapipe_ratio(record, mediapipe))
        for record in bench_int8_latency(folders, args.repeats, args.threads):  # after fp32 is printed
            emit(with_mediapipe_ratio(record, mediapipe))
    if "app" in parts:
        for record in bench_app(folders["ConnectNet-398x224", app_op], args.work_dir, runtime, args.threads):
            emit(record)
    if "flow" in parts:
        for record in evaluate_flow(args.work_dir, args.train_iters):
            emit(record)
    emit({"kind": "machine", "load_average_after": os.getloadavg()})


if __name__ == "__main__":
    main()
