"""The quick start (run by scripts/quickstart.sh after set-up): the whole product in a few minutes.

Generates a small teleconference dataset, trains ConnectNet with cross-entropy + SC loss briefly,
evaluates it (mIoU, SC, temporal stability), exports it for Paddle Inference, ONNX Runtime and
Paddle Lite (ARM and x86), replaces the background of a generated 1280x720 clip and writes a
side-by-side PNG (input | mask | composite). Every step is a ``pphumanseg`` command; the last lines
printed are a summary with the paths of what it produced.
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
SEED = 0
TRAIN_ITERS, BATCH_SIZE, LEARNING_RATE = 300, 4, 0.2  # as reproduce_paper.py --budget small
CLIP_SIZE, CLIP_FRAMES, CLIP_SEED = (1280, 720), 50, 1000  # the clip's seed differs from training's
BACKGROUND = "#2E86C1"
PANEL_WIDTH = 426
MARKER = ".pphumanseg-quickstart"  # marks a directory this script may clear on the next run


class QuickStart:
    """The quick start's steps, writing everything under ``out``.

    Args:
        out (Path): Output directory (created).
    """

    def __init__(self, out):
        self.out = out
        self.timings = []
        self.data = out / "data"
        self.model_path = out / "train" / f"iter_{TRAIN_ITERS}" / "model.pdparams"
        self.metrics = out / "metrics.json"
        self.model_dir = out / "model"
        self.clip = out / "clip_1280x720.mp4"
        self.composite = out / "app" / "composite.mp4"
        self.side_by_side = out / "side_by_side.png"

    def step(self, title, arguments):
        """Run ``pphumanseg ARGUMENTS``; its output goes to logs/<command>.log."""
        log = self.out / "logs" / f"{arguments[0]}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "pphumanseg", *arguments]
        print(f"[{time.strftime('%H:%M:%S')}] {title}: pphumanseg {shlex.join(arguments)}", flush=True)
        start = time.perf_counter()
        with open(log, "w") as output:
            status = subprocess.run(argv, cwd=REPO, stdout=output, stderr=subprocess.STDOUT,
                                    env=dict(os.environ, PYTHONWARNINGS="ignore")).returncode
        self.timings.append((title, time.perf_counter() - start))
        if status != 0:
            tail = "".join(log.read_text().splitlines(keepends=True)[-8:])
            raise SystemExit(f"quickstart: error: '{title}' failed (exit {status}); {log}:\n{tail}")

    def run(self):
        # relu_logits=False: trained from scratch with batch 4, the release classifier's final
        # ReLU can clamp the person logit to 0 for good (docs/ablation.md); same parameters.
        dataset = ["--opts", f"train_dataset.dataset_root={self.data}",
                   f"val_dataset.dataset_root={self.data}", "model.relu_logits=False"]
        self.step("generate data", ["synth", "--out", str(self.data), "--videos", "10", "--frames",
                                    "12", "--size", "398x224", "--seed", str(SEED)])
        self.step("train ConnectNet (CE + SC loss)", [
            "train", "--config", CONFIG, *dataset, "--save_dir", str(self.out / "train"),
            "--iters", str(TRAIN_ITERS), "--batch_size", str(BATCH_SIZE), "--learning_rate",
            str(LEARNING_RATE), "--save_interval", str(TRAIN_ITERS), "--seed", str(SEED),
            "--num_workers", "0", "--log_iters", "50"])
        self.step("evaluate", ["val", "--config", CONFIG, *dataset, "--model_path",
                               str(self.model_path), "--save_json", str(self.metrics),
                               "--num_workers", "0"])
        self.step("export (Paddle Inference, ONNX, Paddle Lite arm + x86)", [
            "export", "--config", CONFIG, *dataset, "--model_path", str(self.model_path),
            "--save_dir", str(self.model_dir), "--input_shape", "1", "3", "224", "398",
            "--output_op", "foreground", "--formats", "paddle,onnx,lite"])
        self.write_clip()
        self.step("background replacement", [
            "infer", "--model_dir", str(self.model_dir), "--input", str(self.clip), "--save",
            str(self.composite), "--bg", BACKGROUND, "--flow", "--runtime", "paddle", "--quiet"])
        self.write_side_by_side()
        self.print_summary()

    def write_clip(self):
        from pphumanseg.synth import write_clip

        print(f"[{time.strftime('%H:%M:%S')}] generate a {CLIP_SIZE[0]}x{CLIP_SIZE[1]} clip: "
              f"{self.clip}", flush=True)
        start = time.perf_counter()
        write_clip(str(self.clip), size=CLIP_SIZE, frames=CLIP_FRAMES, seed=CLIP_SEED)
        self.timings.append(("generate 720p clip", time.perf_counter() - start))

    def write_side_by_side(self):
        """Input | mask | composite of the clip's middle frame, each scaled to PANEL_WIDTH."""
        index = CLIP_FRAMES // 2
        mask_video = self.composite.with_name(f"{self.composite.stem}_mask{self.composite.suffix}")
        panels = []
        for label, video in (("input", self.clip), ("mask", mask_video), ("composite", self.composite)):
            frame = read_frame(video, index)
            height = round(frame.shape[0] * PANEL_WIDTH / frame.shape[1])
            panel = cv2.resize(frame, (PANEL_WIDTH, height), interpolation=cv2.INTER_AREA)
            cv2.putText(panel, label, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
            cv2.putText(panel, label, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1,
                        cv2.LINE_AA)
            panels.append(panel)
        temporary = self.side_by_side.with_suffix(".partial.png")
        if not cv2.imwrite(str(temporary), np.hstack(panels), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise SystemExit(f"quickstart: error: cannot write {self.side_by_side}")
        os.replace(temporary, self.side_by_side)

    def print_summary(self):
        metrics = json.loads(self.metrics.read_text())
        exported = sorted(path.name for path in self.model_dir.iterdir())
        print("\n=== pphumanseg quick start: summary ===")
        print(f"val split of {self.data} ({metrics['images']} frames), ConnectNet CE+SCL after "
              f"{TRAIN_ITERS} iterations:")
        print(f"  mIoU {metrics['miou']:.4f}   SC {metrics['sc']:.4f}   temporal stability "
              f"{metrics['temporal_stability']:.4f} (flicker rate {metrics['flicker_rate']:.4f})")
        print(f"  metrics JSON:     {self.metrics}")
        print(f"  exported model:   {self.model_dir}/ ({', '.join(exported)})")
        print(f"  composited video: {self.composite} (mask: {self.composite.stem}_mask.mp4)")
        print(f"  side-by-side PNG: {self.side_by_side}")
        print("  step times: " + ", ".join(f"{title} {seconds:.0f}s" for title, seconds in self.timings))


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
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            parser.exit(2, f"quickstart: error: --out {out} is not empty and not a quick start output\n")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).touch()
    QuickStart(out).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
