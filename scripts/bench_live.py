"""Live-path benchmark (issue 16): camera frame in -> composited frame out, no video encoding.

A generated 1280x720 clip is rendered into memory (so decoding is not measured either) and fed
frame by frame to ``pphumanseg_deploy.app.BackgroundReplacer``, for each combination of
background (``blur`` and an image), ``--flow`` off and on, and thread counts (the runtime's and
OpenCV's). One JSON line per combination gives per-stage medians in milliseconds:

- ``pre``: resizing to the network's input and normalising it;
- ``model``: the network (and reading the probability out of its output);
- ``flow``: optical-flow smoothing (about 0 without ``--flow``);
- ``upsample``: the alpha at frame resolution;
- ``background``: the background image for the frame (blur or the scaled image);
- ``composite``: blending frame and background;
- ``non_model``: everything but ``model``, per frame (median of per-frame sums); ``total`` likewise.
``replacer_ms`` is the median of whole ``replacer(frame)`` calls, timed separately, as a check.

``--baseline REF`` first runs this script as it is at git revision REF (extracted with ``git
archive`` into the work dir, importing that revision's package) on the same model and clip, so one
run prints before and after; lines carry ``tree``: REF or ``worktree``.

``--app`` adds the app's own throughput, decoding and encoding included (``kind: app``, from
``scripts/bench_infer.py``'s measurement: ``pphumanseg infer --bg blur`` on a generated 1280x720
clip, flow off and on, at each thread count; for ``--baseline`` too).

Usage: python scripts/bench_live.py --model_dir EXPORT [--threads 1,2] [--repeats 120]
           [--frames 40] [--baseline REF] [--app] [--work_dir output/bench_live]
``EXPORT`` is a ``pphumanseg export`` directory with model.onnx (e.g. ``--output_op foreground``).
Report ``uptime`` alongside: the figures depend on what else runs on the machine.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import cv2
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE = (1280, 720)


def emit(record):
    print(json.dumps(record), flush=True)


def render_frames(count, seed=11):
    from pphumanseg.synth import render_clip

    return [frame for frame, _ in render_clip(size=SIZE, frames=count, seed=seed)]


def background_image(work_dir):
    """A 1920x1080 picture (scaled to cover each frame, as a user's photo would be)."""
    path = os.path.join(work_dir, "background_1920x1080.png")
    if not os.path.isfile(path):
        rng = np.random.default_rng(5)
        noise = rng.integers(0, 256, (270, 480, 3), dtype=np.uint8)
        picture = cv2.resize(cv2.GaussianBlur(noise, (0, 0), 4), (1920, 1080), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(path, picture)
    return path


def bench(model_dir, frames, background_path, threads, repeats, bg, flow):
    from pphumanseg_deploy.app import BackgroundReplacer
    from pphumanseg_deploy.compositing import parse_background
    from pphumanseg_deploy.predictor import Predictor

    cv2.setNumThreads(threads)
    predictor = Predictor(model_dir, runtime="onnx", threads=threads)
    background = parse_background(background_path if bg == "image" else bg)
    replacer = BackgroundReplacer(predictor, background, flow=flow)
    stages = {stage: [] for stage in BackgroundReplacer.STAGES}
    non_model, total = [], []
    for index in range(repeats + 5):
        times = {}
        replacer(frames[index % len(frames)], timings=times)
        if index < 5:
            continue  # warm-up
        for stage in BackgroundReplacer.STAGES:
            stages[stage].append(times[stage])
        total.append(sum(times.values()))
        non_model.append(total[-1] - times["model"])
    replacer.reset()
    whole = []
    for index in range(repeats + 5):
        start = time.perf_counter()
        replacer(frames[index % len(frames)])
        if index >= 5:
            whole.append((time.perf_counter() - start) * 1000.0)
    medians = {stage: round(statistics.median(values), 3) for stage, values in stages.items()}
    medians["non_model"] = round(statistics.median(non_model), 3)
    medians["total"] = round(statistics.median(total), 3)
    return {"kind": "live", "size": f"{SIZE[0]}x{SIZE[1]}", "bg": bg, "flow": flow, "threads": threads,
            "frames": repeats, "median_ms": medians, "replacer_ms": round(statistics.median(whole), 3)}


def run_baseline(ref, args):
    """Runs this script as it is at ``ref`` on the same model and clip; yields its records."""
    tree = os.path.join(args.work_dir, f"tree-{ref}")
    if not os.path.isdir(tree):
        partial = tree + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        archive = subprocess.run(["git", "-C", REPO, "archive", ref, "contrib", "deploy/python", "scripts"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", partial], input=archive, check=True)
        os.replace(partial, tree)
    command = [sys.executable, os.path.join(tree, "scripts", "bench_live.py"), "--model_dir", args.model_dir,
               "--work_dir", args.work_dir, "--threads", ",".join(map(str, args.threads)),
               "--repeats", str(args.repeats), "--frames", str(args.frames)]
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(tree, "contrib"),
                                                               os.path.join(tree, "deploy", "python")]))
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    for line in result.stdout.splitlines():
        record = json.loads(line)
        if record["kind"] == "live":
            yield dict(record, tree=ref)
    if args.app:  # this tree's measurement of the app, run on REF's package
        snippet = (f"import json, sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
                   f"from bench_infer import bench_app; "
                   f"[print(json.dumps(r)) for r in bench_app({args.model_dir!r}, {args.work_dir!r}, 'onnx', "
                   f"{args.threads!r})]")
        result = subprocess.run([sys.executable, "-c", snippet], env=environment, capture_output=True, text=True,
                                check=True)
        for line in result.stdout.splitlines():
            yield dict(json.loads(line), tree=ref)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model_dir", required=True, help="pphumanseg export directory with model.onnx")
    parser.add_argument("--work_dir", default=os.path.join(REPO, "output", "bench_live"))
    parser.add_argument("--threads", default="1,2", type=lambda text: [int(n) for n in text.split(",")],
                        help="comma-separated thread counts (onnxruntime and OpenCV)")
    parser.add_argument("--repeats", type=int, default=120, help="timed frames per combination")
    parser.add_argument("--frames", type=int, default=40, help="distinct frames in the generated clip")
    parser.add_argument("--baseline", help="git revision to measure first with its own copy of this script")
    parser.add_argument("--app", action="store_true", help="also measure the app writing videos")
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    emit({"kind": "machine", "cpus": os.cpu_count(), "load_average": os.getloadavg()})
    if args.baseline:
        for record in run_baseline(args.baseline, args):
            emit(record)
    frames = render_frames(args.frames)
    background_path = background_image(args.work_dir)
    for threads in args.threads:
        for bg in ("blur", "image"):
            for flow in (False, True):
                record = bench(args.model_dir, frames, background_path, threads, args.repeats, bg, flow)
                emit(dict(record, tree="worktree"))
    if args.app:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from bench_infer import bench_app

        cv2.setNumThreads(-1)  # OpenCV's default, as the app runs
        for record in bench_app(args.model_dir, args.work_dir, "onnx", args.threads):
            emit(dict(record, tree="worktree"))
    emit({"kind": "machine", "load_average_after": os.getloadavg()})


if __name__ == "__main__":
    main()
