"""The quick start (run by scripts/quickstart.sh after set-up): the whole product in a few minutes.

With PaddleSeg's released PP-HumanSegV1-Lite portrait weights (``--weights FILE``, else the zoo
cache, else a download): installs them in the zoo cache, evaluates them on a small generated
teleconference dataset (mIoU, SC, temporal stability), exports them for Paddle Inference, ONNX
Runtime and Paddle Lite (ARM and x86), replaces the background of a 1280x720 clip of a real person
(a slow camera move over scikit-image's astronaut photo, or ``--input VIDEO``) and writes a
side-by-side PNG (input | mask | composite).

Without the released weights (offline, no ``--weights``) it says so in one line and trains
ConnectNet with cross-entropy + SC loss briefly on generated data instead, then runs the same
steps on a generated clip. Every step is a ``pphumanseg`` command; the last lines printed are a
summary with the paths of what it produced.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
CONFIG = "configs/connectnet/connectnet_portrait_398x224_scl.yml"
RELEASE = "pp_humanseg_v1_lite_portrait_398x224"  # the released model for CONFIG's ConnectNet
SEED = 0
TRAIN_ITERS, BATCH_SIZE, LEARNING_RATE = 300, 4, 0.2  # as reproduce_paper.py --budget small
CLIP_SIZE, CLIP_FRAMES, CLIP_SEED = (1280, 720), 50, 1000  # the clip's seed differs from training's
# The camera move over the photo: a 16:9 window over the upper part (head and shoulders) that
# zooms in by ZOOM and sways by SWAY of its width over the clip.
ZOOM, SWAY = 0.12, 0.04
BACKGROUND = "#2E86C1"
PANEL_WIDTH = 426
MARKER = ".pphumanseg-quickstart"  # marks a directory this script may clear on the next run


class QuickStart:
    """The quick start's steps, writing everything under ``out``.

    Args:
        out (Path): Output directory (created).
        weights (Path, optional): the released checkpoint, downloaded elsewhere.
        video (Path, optional): a clip of a person to replace the background of.
    """

    def __init__(self, out, weights=None, video=None):
        self.out = out
        self.weights = weights
        self.timings = []
        self.data = out / "data"
        self.metrics = out / "metrics.json"
        self.model_dir = out / "model"
        self.clip = video or out / "clip_1280x720.mp4"
        self.own_clip = video is None
        self.composite = out / "app" / "composite.mp4"
        self.side_by_side = out / "side_by_side.png"
        self.trained_iters = 0  # 0: the released weights, as they are

    def step(self, title, arguments, check=True):
        """Run ``pphumanseg ARGUMENTS``; its output goes to logs/<command>.log. Returns the exit
        status and the log's last line."""
        log = self.out / "logs" / f"{arguments[0]}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "pphumanseg", *arguments]
        print(f"[{time.strftime('%H:%M:%S')}] {title}: pphumanseg {shlex.join(arguments)}", flush=True)
        start = time.perf_counter()
        with open(log, "w") as output:
            status = subprocess.run(argv, cwd=REPO, stdout=output, stderr=subprocess.STDOUT,
                                    env=dict(os.environ, PYTHONWARNINGS="ignore")).returncode
        self.timings.append((title, time.perf_counter() - start))
        lines = log.read_text().splitlines()
        if status != 0 and check:
            tail = "\n".join(lines[-8:])
            raise SystemExit(f"quickstart: error: '{title}' failed (exit {status}); {log}:\n{tail}")
        return status, lines[-1] if lines else ""

    def run(self):
        dataset = ["--opts", f"train_dataset.dataset_root={self.data}",
                   f"val_dataset.dataset_root={self.data}"]
        self.step("generate data", ["synth", "--out", str(self.data), "--videos", "10", "--frames",
                                    "12", "--size", "398x224", "--seed", str(SEED)])
        weights = self.released_weights()
        if weights is None:
            weights = self.train(dataset)
        self.step("evaluate", ["val", "--config", CONFIG, *dataset, "--model_path", weights,
                               "--save_json", str(self.metrics), "--num_workers", "0"])
        self.step("export (Paddle Inference, ONNX, Paddle Lite arm + x86)", [
            "export", "--config", CONFIG, *dataset, "--model_path", weights,
            "--save_dir", str(self.model_dir), "--input_shape", "1", "3", "224", "398",
            "--output_op", "foreground", "--formats", "paddle,onnx,lite"])
        if self.own_clip:
            self.write_clip()
        self.step("background replacement", [
            "infer", "--model_dir", str(self.model_dir), "--input", str(self.clip), "--save",
            str(self.composite), "--bg", BACKGROUND, "--flow", "--runtime", "paddle", "--quiet"])
        self.write_side_by_side()
        self.print_summary()

    def released_weights(self):
        """``zoo:RELEASE`` once the released checkpoint is in the zoo cache (from ``--weights``
        or downloaded); None, said in one line, when it cannot be had."""
        source = ["--from", str(self.weights)] if self.weights else []
        status, last_line = self.step("released PP-HumanSegV1-Lite weights",
                                      ["zoo", "get", RELEASE, *source], check=self.weights is not None)
        if status == 0:
            return f"zoo:{RELEASE}"
        print(f"quickstart: no released weights ({last_line.split('error: ', 1)[-1]}); training "
              "ConnectNet on generated data instead", flush=True)
        return None

    def train(self, dataset):
        # relu_logits=False: trained from scratch with batch 4, the release classifier's final
        # ReLU can clamp the person logit to 0 for good (docs/ablation.md); same parameters.
        dataset.append("model.relu_logits=False")
        self.step("train ConnectNet (CE + SC loss)", [
            "train", "--config", CONFIG, *dataset, "--save_dir", str(self.out / "train"),
            "--iters", str(TRAIN_ITERS), "--batch_size", str(BATCH_SIZE), "--learning_rate",
            str(LEARNING_RATE), "--save_interval", str(TRAIN_ITERS), "--seed", str(SEED),
            "--num_workers", "0", "--log_iters", "50"])
        self.trained_iters = TRAIN_ITERS
        return str(self.out / "train" / f"iter_{TRAIN_ITERS}" / "model.pdparams")

    def write_clip(self):
        """A real person for the released weights; a generated call for a model trained on them."""
        print(f"[{time.strftime('%H:%M:%S')}] write a {CLIP_SIZE[0]}x{CLIP_SIZE[1]} clip: "
              f"{self.clip}", flush=True)
        start = time.perf_counter()
        if self.trained_iters:
            from pphumanseg.synth import write_clip

            write_clip(str(self.clip), size=CLIP_SIZE, frames=CLIP_FRAMES, seed=CLIP_SEED)
        else:
            from skimage import data

            write_photo_clip(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), self.clip)
        self.timings.append(("write 720p clip", time.perf_counter() - start))

    def write_side_by_side(self):
        """Input | mask | composite of the clip's middle frame, each scaled to PANEL_WIDTH."""
        from pphumanseg.utils.atomic_write import atomic_write

        mask_video = self.composite.with_name(f"{self.composite.stem}_mask{self.composite.suffix}")
        index = frame_count(self.composite) // 2
        panels = []
        for label, video in (("input", self.clip), ("mask", mask_video), ("composite", self.composite)):
            frame = read_frame(video, index)
            height = round(frame.shape[0] * PANEL_WIDTH / frame.shape[1])
            panel = cv2.resize(frame, (PANEL_WIDTH, height), interpolation=cv2.INTER_AREA)
            cv2.putText(panel, label, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
            cv2.putText(panel, label, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1,
                        cv2.LINE_AA)
            panels.append(panel)
        atomic_write(str(self.side_by_side), lambda temporary: cv2.imwrite(
            temporary, np.hstack(panels), [cv2.IMWRITE_PNG_COMPRESSION, 9]))

    def print_summary(self):
        metrics = json.loads(self.metrics.read_text())
        exported = sorted(path.name for path in self.model_dir.iterdir())
        model = (f"ConnectNet CE+SCL after {self.trained_iters} iterations on generated data"
                 if self.trained_iters else f"released {RELEASE}, no training")
        print("\n=== pphumanseg quick start: summary ===")
        print(f"model: {model}")
        print(f"val split of {self.data} ({metrics['images']} generated frames; cartoon people, "
              "not a measure of real-call quality):")
        print(f"  mIoU {metrics['miou']:.4f}   SC {metrics['sc']:.4f}   temporal stability "
              f"{metrics['temporal_stability']:.4f} (flicker rate {metrics['flicker_rate']:.4f})")
        print(f"  metrics JSON:     {self.metrics}")
        print(f"  exported model:   {self.model_dir}/ ({', '.join(exported)})")
        print(f"  composited video: {self.composite} (mask: {self.composite.stem}_mask.mp4)")
        print(f"  side-by-side PNG: {self.side_by_side}")
        print("  step times: " + ", ".join(f"{title} {seconds:.0f}s" for title, seconds in self.timings))


def write_photo_clip(photo, path, size=CLIP_SIZE, frames=CLIP_FRAMES, fps=25):
    """A clip of a still photo seen by a slowly zooming, swaying camera (16:9 windows over its
    upper part, resized to ``size``), written through a temporary file."""
    from pphumanseg.utils.atomic_write import atomic_write

    height, width = photo.shape[:2]
    window_width = min(width, round(height * 16 / 9))

    def write(temporary):
        writer = cv2.VideoWriter(temporary, cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        try:
            for index in range(frames):
                progress = index / max(frames - 1, 1)
                crop_width = window_width * (1 - ZOOM * progress)
                crop_height = crop_width * 9 / 16
                centre_x = width / 2 + SWAY * window_width * np.sin(2 * np.pi * progress)
                left = int(np.clip(centre_x - crop_width / 2, 0, width - crop_width))
                top = int((window_width * 9 / 16 - crop_height) / 4)  # zoom towards the head
                window = photo[top:top + round(crop_height), left:left + round(crop_width)]
                writer.write(cv2.resize(window, size, interpolation=cv2.INTER_CUBIC))
        finally:
            writer.release()
        return frame_count(temporary) == frames

    atomic_write(str(path), write)


def frame_count(video):
    capture = cv2.VideoCapture(str(video))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    return count


def read_frame(video, index):
    capture = cv2.VideoCapture(str(video))
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise SystemExit(f"quickstart: error: cannot read frame {index} of {video}")
    return frame


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "quickstart_output",
                        help="output directory (default quickstart_output/)")
    parser.add_argument("--weights", type=Path,
                        help=f"the released {RELEASE} checkpoint (.pdparams or PaddleSeg's zip), "
                             "downloaded elsewhere; default: the zoo cache or a download")
    parser.add_argument("--input", type=Path, help="a video of a person (default: a 720p clip "
                                                   "made from a photo of a real person)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    for flag, path in (("--weights", args.weights), ("--input", args.input)):
        if path is not None and not path.is_file():
            parser.exit(2, f"quickstart: error: {flag} {path}: file not found\n")
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            parser.exit(2, f"quickstart: error: --out {out} is not empty and not a quick start output\n")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).touch()
    QuickStart(out, args.weights and args.weights.resolve(),
               args.input and args.input.resolve()).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
