"""Reproduce the PP-HumanSeg paper's ConnectNet table: CE only vs CE + SC loss.

Usage:
    python scripts/reproduce_paper.py --data DIR [--budget small|paper] [--out DIR] [--seed S]

Both variants are trained with the same seed and schedule (the paper's portrait recipe with
``--budget paper``: batch 128, 10k iterations, learning rate 0.1; a few minutes of CPU with
``small``), evaluated on DIR's val split (mIoU, SC, temporal stability), exported for Paddle
Inference and timed there with one thread. The table is printed and written as ``table.md`` and
``table.json`` in --out. The complexity row must be the paper's ConnectNet exactly (137,466
parameters, FLOPs within 1 % of 266,440,496 at 398x224), otherwise the script exits with status 1
before training. With PP-HumanSeg14K as DIR it reproduces the paper; with generated data
(``pphumanseg synth``) it runs the same ablation. Every step goes through the ``pphumanseg`` CLI.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
VARIANTS = (("CE", "configs/connectnet/connectnet_portrait_398x224.yml"),
            ("CE + SCL", "configs/connectnet/connectnet_portrait_398x224_scl.yml"))
INPUT_WIDTH, INPUT_HEIGHT = 398, 224
PAPER_PARAMS = 137_466
PAPER_FLOPS = 266_440_496
FLOPS_TOLERANCE = 0.01
LATENCY_WARMUP, LATENCY_RUNS = 10, 50


@dataclass(frozen=True)
class Budget:
    """A training schedule shared by both variants."""
    iters: int
    batch_size: int
    learning_rate: float
    save_interval: int


BUDGETS = {
    # configs/_base_/portrait_schedule.yml: PaddleSeg's PP-HumanSeg-Lite SCL recipe.
    "paper": Budget(iters=10000, batch_size=128, learning_rate=0.1, save_interval=1000),
    # A few CPU minutes per variant on 2 cores. With 0.05 or 0.1 ConnectNet still predicted only
    # background after 200 iterations of batch 4 on generated data; 0.2 leaves that phase sooner.
    "small": Budget(iters=300, batch_size=4, learning_rate=0.2, save_interval=300),
}


class StepFailed(Exception):
    """A pphumanseg command failed; the message names it and its log."""


def run_cli(arguments, log_path):
    """``pphumanseg ARGUMENTS`` with output in ``log_path``; returns its stdout text."""
    argv = [sys.executable, "-m", "pphumanseg", *arguments]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    result = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    log_path.write_text(f"$ {shlex.join(argv)}\n{result.stdout}\n{result.stderr}")
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise StepFailed(f"'pphumanseg {arguments[0]}' failed (exit {result.returncode}), "
                         f"log {log_path}:\n{tail}")
    return result.stdout


def complexity(out):
    """Rows of ``pphumanseg complexity --json`` for both variants, keyed by config path."""
    text = run_cli(["complexity", "--json", "--configs", *(config for _, config in VARIANTS)],
                   out / "logs" / "complexity.log")
    return {row["config"]: row for row in json.loads(text)}


def check_complexity(row):
    """Problems with the complexity row against the paper's ConnectNet (empty when it matches)."""
    problems = []
    if (row["input_width"], row["input_height"]) != (INPUT_WIDTH, INPUT_HEIGHT):
        problems.append(f"input {row['input_width']}x{row['input_height']}, "
                        f"expected {INPUT_WIDTH}x{INPUT_HEIGHT}")
    if row["params"] != PAPER_PARAMS:
        problems.append(f"params {row['params']:,}, expected exactly {PAPER_PARAMS:,}")
    if abs(row["flops"] - PAPER_FLOPS) > FLOPS_TOLERANCE * PAPER_FLOPS:
        problems.append(f"FLOPs {row['flops']:,}, expected {PAPER_FLOPS:,} within "
                        f"{FLOPS_TOLERANCE:.0%}")
    return problems


def train_and_evaluate(name, config, data, budget, seed, out):
    """Train one variant, evaluate it on the val split and export it; returns its metrics."""
    slug = name.lower().replace(" + ", "_").replace(" ", "_")
    work = out / slug
    if work.exists():  # a previous run's checkpoints would otherwise be mixed into this one
        shutil.rmtree(work)
    dataset_opts = ["--opts", f"train_dataset.dataset_root={data}", f"val_dataset.dataset_root={data}"]
    start = time.perf_counter()
    run_cli(["train", "--config", config, *dataset_opts, "--save_dir", str(work / "train"),
             "--iters", str(budget.iters), "--batch_size", str(budget.batch_size),
             "--learning_rate", str(budget.learning_rate), "--save_interval", str(budget.save_interval),
             "--seed", str(seed), "--num_workers", "0", "--log_iters", "50"],
            out / "logs" / f"{slug}_train.log")
    train_seconds = time.perf_counter() - start
    model_path = work / "train" / f"iter_{budget.iters}" / "model.pdparams"
    metrics_path = work / "metrics.json"
    run_cli(["val", "--config", config, *dataset_opts, "--model_path", str(model_path),
             "--save_json", str(metrics_path), "--num_workers", "0"],
            out / "logs" / f"{slug}_val.log")
    export_dir = work / "export"
    run_cli(["export", "--config", config, *dataset_opts, "--model_path", str(model_path),
             "--save_dir", str(export_dir), "--input_shape", "1", "3", str(INPUT_HEIGHT),
             str(INPUT_WIDTH), "--formats", "paddle"],
            out / "logs" / f"{slug}_export.log")
    metrics = json.loads(metrics_path.read_text())
    return {"metrics": metrics, "export_dir": export_dir, "train_seconds": train_seconds,
            "model_path": model_path}


def paddle_inference_latency_ms(export_dir, image_bgr):
    """Median milliseconds of one network run in Paddle Inference with one CPU thread."""
    from pphumanseg_deploy import Predictor

    predictor = Predictor(str(export_dir), runtime="paddle", threads=1)
    batch = predictor.preprocess(image_bgr)
    for _ in range(LATENCY_WARMUP):
        predictor.run_network(batch)
    times = []
    for _ in range(LATENCY_RUNS):
        start = time.perf_counter()
        predictor.run_network(batch)
        times.append(time.perf_counter() - start)
    return 1000.0 * float(np.median(times))


def first_val_image(data):
    first = (data / "val.txt").read_text().split()[0]
    image = cv2.imread(str(data / first))
    if image is None:
        raise StepFailed(f"{data / 'val.txt'}:1: cannot read image {first}")
    return image


def markdown_table(rows, header):
    lines = [header, "",
             "| Model | Loss | Input size | Params | FLOPs | Model size | mIoU (%) | SC (%) "
             "| Temporal stability (%) | Latency, Paddle Inference 1 thread (ms) |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(
            f"| {row['model']} | {row['loss']} | {row['input_size']} | {row['params']:,} "
            f"| {row['flops'] / 1e6:.1f}M | {row['model_size_bytes'] / 1e6:.2f} MB "
            f"| {100 * row['miou']:.2f} | {100 * row['sc']:.2f} | {100 * row['temporal_stability']:.2f} "
            f"| {row['latency_ms']:.1f} |")
    return "\n".join(lines) + "\n"


def write_atomic(path, text):
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".partial") as file:
        file.write(text)
    os.replace(file.name, path)


def reproduce(data, budget_name, out, seed):
    budget = BUDGETS[budget_name]
    out.mkdir(parents=True, exist_ok=True)
    rows_by_config = complexity(out)
    problems = check_complexity(rows_by_config[VARIANTS[1][1]])
    if problems:
        print("reproduce_paper: error: ConnectNet complexity differs from the paper: "
              + "; ".join(problems), file=sys.stderr)
        return 1
    image = first_val_image(data)
    rows = []
    for loss, config in VARIANTS:
        print(f"[{time.strftime('%H:%M:%S')}] {loss}: training {budget.iters} iterations...", flush=True)
        result = train_and_evaluate(loss, config, data, budget, seed, out)
        export_dir = result["export_dir"]
        complexity_row = rows_by_config[config]
        metrics = result["metrics"]
        rows.append({
            "model": complexity_row["model"], "loss": loss, "config": config,
            "input_size": f"{complexity_row['input_width']}x{complexity_row['input_height']}",
            "params": complexity_row["params"], "flops": complexity_row["flops"],
            "model_size_bytes": sum((export_dir / name).stat().st_size
                                    for name in ("model.pdmodel", "model.pdiparams")),
            "miou": metrics["miou"], "sc": metrics["sc"],
            "temporal_stability": metrics["temporal_stability"],
            "class_iou": metrics["class_iou"], "sc_per_class": metrics["sc_per_class"],
            "latency_ms": paddle_inference_latency_ms(export_dir, image),
            "train_seconds": round(result["train_seconds"], 1),
            "model_path": str(result["model_path"]),
        })
    header = (f"ConnectNet ablation on `{data}` (val split, {rows[0]['input_size']}), budget "
              f"`{budget_name}`: {budget.iters} iterations, batch {budget.batch_size}, learning rate "
              f"{budget.learning_rate}, seed {seed}; latency median of {LATENCY_RUNS} runs, load "
              f"average {os.getloadavg()[0]:.2f}.")
    table = markdown_table(rows, header)
    write_atomic(out / "table.md", table)
    record = {"data": str(data), "budget": budget_name, "schedule": asdict(budget), "seed": seed,
              "load_average": os.getloadavg()[0], "rows": rows}
    write_atomic(out / "table.json", json.dumps(record, indent=2) + "\n")
    print(table)
    print(f"wrote {out / 'table.md'} and {out / 'table.json'}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path,
                        help="dataset root with train.txt and val.txt (PP-HumanSeg14K layout)")
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="paper")
    parser.add_argument("--out", type=Path, default=Path("output/reproduce_paper"))
    parser.add_argument("--seed", type=int, default=0, help="seed of both trainings")
    args = parser.parse_args(argv)
    data = args.data.resolve()
    for split in ("train.txt", "val.txt"):
        if not (data / split).is_file():
            parser.exit(2, f"reproduce_paper: error: --data {args.data}: no {split}\n")
    try:
        return reproduce(data, args.budget, args.out.resolve(), args.seed)
    except StepFailed as error:
        print(f"reproduce_paper: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
