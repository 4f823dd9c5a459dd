"""Reproduce the PP-HumanSeg paper's SC-loss ablation: CE vs CE + 0.1 SC loss, paired over seeds.

Usage:
    python scripts/reproduce_paper.py --data DIR [--budget ci|full|small|paper]
        [--init WEIGHTS|scratch] [--seeds N] [--jobs J] [--out DIR] [--opts key=value ...]

For every seed both variants train with the same data, schedule and seed; only the loss differs.
``--init`` names the starting weights (anything ``model.pretrained`` takes: ``zoo:NAME``, a file,
a URL; default the released PP-HumanSegV1-Lite) and selects the fine-tuning recipe
(``configs/connectnet/connectnet_portrait_398x224_finetune{,_scl}.yml``); ``scratch`` trains the
portrait configs from initialisation with the classifier's final ReLU removed
(``model.relu_logits=False``, see README). Each model is evaluated on DIR's val split (mIoU,
per-class IoU and SC, temporal stability) and, when it started from weights, compared with them on
photos of real people (the share of pixels whose person mask agrees). The starting weights are the
baseline row.

Reported: every run, mean and standard deviation over seeds, and the paired difference
(CE + SCL - CE) with a 95 % t-interval over seeds, ending in one verdict line per metric.
Written as ``table.md`` and ``table.json`` in --out. The network must be the paper's ConnectNet
(137,466 parameters, FLOPs within 1 % of 266,440,496 at 398x224), otherwise the script exits with
status 1 before training. Every step goes through the ``pphumanseg`` CLI.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import cv2
import numpy as np
from scipy import stats

from pphumanseg.utils.atomic_write import atomic_write, atomic_write_text

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from real_photos import real_photos  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
LOSSES = ("CE", "CE + SCL")
FINETUNE_CONFIGS = ("configs/connectnet/connectnet_portrait_398x224_finetune.yml",
                    "configs/connectnet/connectnet_portrait_398x224_finetune_scl.yml")
SCRATCH_CONFIGS = ("configs/connectnet/connectnet_portrait_398x224.yml",
                   "configs/connectnet/connectnet_portrait_398x224_scl.yml")
SCRATCH_OPTS = ("model.relu_logits=False",)
DEFAULT_INIT = "zoo:pp_humanseg_v1_lite_portrait_398x224"
INPUT_WIDTH, INPUT_HEIGHT = 398, 224
PAPER_PARAMS = 137_466
PAPER_FLOPS = 266_440_496
FLOPS_TOLERANCE = 0.01
CONFIDENCE = 0.95
# (key in a run's record, label); percentages.
METRICS = (("miou", "mIoU"), ("person_iou", "person IoU"), ("sc", "SC"), ("sc_person", "person SC"),
           ("sc_background", "background SC"), ("temporal_stability", "temporal stability"),
           ("photo_agreement", "agreement with the start on real photos"))
VERDICT_METRICS = ("sc", "miou")


@dataclass(frozen=True)
class Budget:
    """A schedule shared by every run; ``learning_rate`` None keeps the config's."""
    iters: int
    batch_size: int
    seeds: int
    learning_rate: Optional[float] = None


BUDGETS = {
    # Fine-tuning from released weights on 2 CPU cores: full is the shipped recipe's schedule
    # (the configs' learning rate), ci half of it.
    "ci": Budget(iters=150, batch_size=4, seeds=3),
    "full": Budget(iters=300, batch_size=4, seeds=5),
    # From scratch on 2 CPU cores: with 0.05 or 0.1 ConnectNet still predicted only background
    # after 200 iterations of batch 4 on generated data; 0.2 leaves that phase sooner.
    "small": Budget(iters=300, batch_size=4, seeds=5, learning_rate=0.2),
    # configs/_base_/portrait_schedule.yml: PaddleSeg's PP-HumanSeg-Lite SCL recipe (one GPU).
    "paper": Budget(iters=10000, batch_size=128, seeds=3),
}


class StepFailed(Exception):
    """A pphumanseg command failed; the message names it and its log."""


def run_cli(arguments, log_path):
    """``pphumanseg ARGUMENTS`` with output in ``log_path``; returns its stdout text."""
    argv = [sys.executable, "-m", "pphumanseg", *arguments]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    result = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    log_path.write_text(f"$ {shlex.join(argv)}\n{result.stdout}\n{result.stderr}")
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise StepFailed(f"'pphumanseg {arguments[0]}' failed (exit {result.returncode}), "
                         f"log {log_path}:\n{tail}")
    return result.stdout


def check_complexity(row):
    """Problems with a ``pphumanseg complexity`` row against the paper's ConnectNet (empty when
    it matches)."""
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


@dataclass(frozen=True)
class Experiment:
    """What every run shares."""
    data: Path
    out: Path
    budget: Budget
    init: str  # weights, or "scratch"
    opts: tuple

    @property
    def from_weights(self):
        return self.init != "scratch"

    @property
    def configs(self):
        return FINETUNE_CONFIGS if self.from_weights else SCRATCH_CONFIGS

    def cli_opts(self):
        start = (f"model.pretrained={self.init}",) if self.from_weights else SCRATCH_OPTS
        return ["--opts", f"train_dataset.dataset_root={self.data}",
                f"val_dataset.dataset_root={self.data}", *start, *self.opts]


def evaluate(experiment, config, model_path, work, photos_dir):
    """val metrics (percent) of ``model_path``; with ``photos_dir``, its person masks of the real
    photos go to ``work/photos``."""
    opts = experiment.cli_opts()
    metrics_path = work / "metrics.json"
    run_cli(["val", "--config", config, *opts, "--model_path", model_path,
             "--save_json", str(metrics_path), "--num_workers", "0"], work / "val.log")
    if photos_dir is not None:
        run_cli(["predict", "--config", config, *opts, "--model_path", model_path,
                 "--image_path", str(photos_dir), "--save_dir", str(work / "photos")],
                work / "predict.log")
    metrics = json.loads(metrics_path.read_text())
    record = {"miou": metrics["miou"], "person_iou": metrics["class_iou"][1],
              "background_iou": metrics["class_iou"][0], "sc": metrics["sc"],
              "sc_person": metrics["sc_per_class"][1], "sc_background": metrics["sc_per_class"][0],
              "temporal_stability": metrics["temporal_stability"]}
    return {key: 100.0 * value for key, value in record.items()}


def person_masks(predict_dir):
    return {path.stem: cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) == 1
            for path in sorted((predict_dir / "mask").glob("*.png"))}


def photo_agreement(masks, reference):
    """Percent of pixels, averaged over photos, where two models' person masks agree."""
    return 100.0 * float(np.mean([np.mean(masks[name] == reference[name]) for name in reference]))


def train_and_evaluate(experiment, loss, config, seed, photos_dir, start_masks):
    slug = f"{loss.lower().replace(' + ', '_')}_seed{seed}"
    work = experiment.out / "runs" / slug
    if work.exists():  # a previous run's checkpoints would otherwise be mixed into this one
        shutil.rmtree(work)
    budget = experiment.budget
    schedule = ["--iters", str(budget.iters), "--batch_size", str(budget.batch_size)]
    if budget.learning_rate is not None:
        schedule += ["--learning_rate", str(budget.learning_rate)]
    started = time.perf_counter()
    run_cli(["train", "--config", config, *experiment.cli_opts(), *schedule,
             "--save_dir", str(work / "train"), "--save_interval", str(budget.iters),
             "--keep_checkpoint_max", "1", "--seed", str(seed), "--num_workers", "0",
             "--log_iters", "50"], work / "train.log")
    train_seconds = time.perf_counter() - started
    model_path = work / "train" / f"iter_{budget.iters}" / "model.pdparams"
    record = {"loss": loss, "seed": seed, "config": config,
              **evaluate(experiment, config, str(model_path), work, photos_dir),
              "train_seconds": round(train_seconds, 1), "model_path": str(model_path)}
    if start_masks:
        record["photo_agreement"] = photo_agreement(person_masks(work / "photos"), start_masks)
    print(f"[{time.strftime('%H:%M:%S')}] {loss}, seed {seed}: mIoU {record['miou']:.2f}, "
          f"SC {record['sc']:.2f}, person IoU {record['person_iou']:.2f}", flush=True)
    return record


def summary(values):
    values = np.asarray(values, dtype=float)
    spread = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
    return {"mean": float(values.mean()), "std": spread}


def paired_difference(treated, control):
    """Mean of ``treated - control`` over seeds with its two-sided t-interval half-width."""
    differences = np.asarray(treated, float) - np.asarray(control, float)
    count = len(differences)
    half_width = float("nan")
    if count > 1:
        standard_error = differences.std(ddof=1) / np.sqrt(count)
        half_width = float(stats.t.ppf(0.5 + CONFIDENCE / 2, count - 1) * standard_error)
    mean = float(differences.mean())
    significant = bool(abs(mean) > half_width) if count > 1 else False
    return {"mean": mean, "half_width": half_width, "significant": significant,
            "per_seed": differences.tolist()}


def aggregate(runs):
    """Per loss, mean/std of every metric; per metric, the paired difference SCL - CE."""
    by_loss = {loss: sorted((run for run in runs if run["loss"] == loss), key=lambda run: run["seed"])
               for loss in LOSSES}
    keys = [key for key, _ in METRICS if all(key in run for run in runs)]
    summaries = {loss: {key: summary([run[key] for run in by_loss[loss]]) for key in keys}
                 for loss in LOSSES}
    differences = {key: paired_difference([run[key] for run in by_loss[LOSSES[1]]],
                                          [run[key] for run in by_loss[LOSSES[0]]])
                   for key in keys}
    return summaries, differences


def verdict(key, difference, seeds, budget_name):
    label = dict(METRICS)[key]
    judged = "significant" if difference["significant"] else "not significant"
    return (f"{label} (CE + SCL - CE): {difference['mean']:+.2f} ± {difference['half_width']:.2f} "
            f"points (95 % interval over {seeds} seeds), {judged} at budget {budget_name}")


def markdown(record):
    keys = [key for key, _ in METRICS if key in record["summaries"][LOSSES[0]]]
    labels = dict(METRICS)
    header = "| Model | Seed | " + " | ".join(labels[key] for key in keys) + " |"
    lines = [record["description"], "", header, "|---|---:|" + "---:|" * len(keys)]
    if record["start"]:
        lines.append("| start (untrained) | - | "
                     + " | ".join(f"{record['start'][key]:.2f}" for key in keys) + " |")
    for run in record["runs"]:
        lines.append(f"| {run['loss']} | {run['seed']} | "
                     + " | ".join(f"{run[key]:.2f}" for key in keys) + " |")
    for loss in LOSSES:
        cells = record["summaries"][loss]
        lines.append(f"| **{loss}**, mean ± std | all | "
                     + " | ".join(f"{cells[key]['mean']:.2f} ± {cells[key]['std']:.2f}" for key in keys)
                     + " |")
    cells = record["differences"]
    lines.append("| **SCL - CE**, paired, 95 % interval | all | "
                 + " | ".join(f"{cells[key]['mean']:+.2f} ± {cells[key]['half_width']:.2f}"
                              + ("*" if cells[key]["significant"] else "") for key in keys) + " |")
    lines += ["", "\\* the interval excludes 0.", ""] + [f"- {line}" for line in record["verdicts"]]
    return "\n".join(lines) + "\n"


def reproduce(experiment, budget_name, jobs):
    out = experiment.out
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("table.md", "table.json"):  # a failed rerun must not leave the last run's table
        (out / stale).unlink(missing_ok=True)
    load_at_start = os.getloadavg()[0]
    rows = json.loads(run_cli(["complexity", "--json", "--configs", SCRATCH_CONFIGS[1]],
                              out / "logs" / "complexity.log"))
    problems = check_complexity(rows[0])
    if problems:
        print("reproduce_paper: error: ConnectNet complexity differs from the paper: "
              + "; ".join(problems), file=sys.stderr)
        return 1
    photos_dir, start, start_masks = None, None, None
    if experiment.from_weights:
        photos_dir = out / "real_photos"
        photos_dir.mkdir(exist_ok=True)
        for name, image in real_photos().items():
            atomic_write(str(photos_dir / f"{name}.png"), lambda path: cv2.imwrite(path, image))
        work = out / "runs" / "start"
        if work.exists():
            shutil.rmtree(work)
        start = evaluate(experiment, experiment.configs[0], experiment.init, work, photos_dir)
        start_masks = person_masks(work / "photos")
        start["photo_agreement"] = 100.0
    budget = experiment.budget
    print(f"[{time.strftime('%H:%M:%S')}] training {2 * budget.seeds} models of {budget.iters} "
          f"iterations, {jobs} at a time...", flush=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(train_and_evaluate, experiment, loss, config, seed, photos_dir,
                               start_masks)
                   for seed in range(budget.seeds) for loss, config in zip(LOSSES, experiment.configs)]
        try:
            runs = [future.result() for future in futures]
        except StepFailed:
            pool.shutdown(cancel_futures=True)  # report the failure without training the rest
            raise
    wall_minutes = (time.perf_counter() - started) / 60
    load_at_end = os.getloadavg()[0]
    summaries, differences = aggregate(runs)
    verdicts = [verdict(key, differences[key], budget.seeds, budget_name) for key in VERDICT_METRICS]
    collapsed = [f"{run['loss']} seed {run['seed']}" for run in runs if run["person_iou"] == 0.0]
    verdicts.append(f"collapsed to all-background: {', '.join(collapsed) or 'none'} "
                    f"(of {len(runs)} models)")
    description = (
        f"ConnectNet, CE vs CE + 0.1 SC loss, on `{experiment.data}` (val split, "
        f"{INPUT_WIDTH}x{INPUT_HEIGHT}); budget `{budget_name}`: {budget.iters} iterations, batch "
        f"{budget.batch_size}, learning rate "
        f"{budget.learning_rate if budget.learning_rate is not None else 'of the config'}, "
        f"seeds 0-{budget.seeds - 1}; init `{experiment.init}`"
        + (f"; opts {' '.join(experiment.opts)}" if experiment.opts else "")
        + f". {wall_minutes:.1f} min wall with {jobs} jobs, load average {load_at_start:.2f} at "
        f"the start and {load_at_end:.2f} at the end. Percent.")
    record = {"data": str(experiment.data), "budget": budget_name, "schedule": asdict(budget),
              "init": experiment.init, "opts": list(experiment.opts), "jobs": jobs,
              "wall_minutes": round(wall_minutes, 1), "load_average": [load_at_start, load_at_end],
              "description": description, "start": start, "runs": runs, "summaries": summaries,
              "differences": differences, "verdicts": verdicts}
    table = markdown(record)
    atomic_write_text(str(out / "table.md"), table)
    atomic_write_text(str(out / "table.json"), json.dumps(record, indent=2) + "\n")
    print(table)
    print(f"wrote {out / 'table.md'} and {out / 'table.json'}")
    for line in verdicts:
        print(line)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path,
                        help="dataset root with train.txt and val.txt (PP-HumanSeg14K layout)")
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="ci")
    parser.add_argument("--init", default=DEFAULT_INIT,
                        help="starting weights (zoo:NAME, a file, a URL) or 'scratch'")
    parser.add_argument("--seeds", type=int, help="number of seeds, 0..N-1 (default the budget's)")
    parser.add_argument("--jobs", type=int, default=2,
                        help="models trained at once (each uses one thread)")
    parser.add_argument("--out", type=Path, default=Path("output/reproduce_paper"))
    parser.add_argument("--opts", nargs="+", default=[],
                        help="config overrides for every run, e.g. model.relu_logits=False")
    args = parser.parse_args(argv)
    data = args.data.resolve()
    for split in ("train.txt", "val.txt"):
        if not (data / split).is_file():
            parser.exit(2, f"reproduce_paper: error: --data {args.data}: no {split}\n")
    if args.seeds is not None and args.seeds < 2:
        parser.exit(2, f"reproduce_paper: error: --seeds {args.seeds}: a paired difference needs "
                       "at least 2\n")
    if args.jobs < 1:
        parser.exit(2, f"reproduce_paper: error: --jobs {args.jobs}: must be at least 1\n")
    budget = BUDGETS[args.budget]
    if args.seeds is not None:
        budget = Budget(budget.iters, budget.batch_size, args.seeds, budget.learning_rate)
    init = args.init
    if init != "scratch" and "://" not in init and not init.startswith("zoo:"):
        if not Path(init).exists():
            parser.exit(2, f"reproduce_paper: error: --init {init}: no such file\n")
        init = str(Path(init).resolve())
    experiment = Experiment(data, args.out.resolve(), budget, init, tuple(args.opts))
    try:
        return reproduce(experiment, args.budget, args.jobs)
    except StepFailed as error:
        print(f"reproduce_paper: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
