"""Training speed of ``pphumanseg train``'s loop vs paddleseg's ``core.train`` on the same data.

Both loops train the same config (default: ConnectNet, CE + SC loss, 398x224) with the same batch
size on generated PP-HumanSeg14K-style frames, in fresh model/optimizer/dataset objects, taking
turns ``--repeats`` times. The time of an iteration is the interval between consecutive
``optimizer.step()`` calls (data loading, forward, backward, update, logging: everything the loop
does per iteration); the first ``--warmup`` iterations are skipped and the median interval is
used, which resists load spikes from other processes and leaves out fixed costs (loader start,
final checkpoint, paddleseg's FLOPs count and 1 s sleep). Both wall-clock images/s and images per
CPU-second of this process are reported: on a shared machine the CPU-time figure measures the
work each loop does, the wall figure also what the other processes took. Prints one JSON line
per loop and repeat, then a summary line with the median speeds and their ratios (ours / paddleseg).

    .venv/bin/python scripts/bench_train.py [--config C] [--batch_size 8] [--iters 12] [--repeats 2]
"""
import argparse
import json
import os
import statistics
import tempfile
import time

import paddle
import paddleseg.core
from paddleseg.utils import logger
from pphumanseg.core.config import ComponentBuilder, load_config
from pphumanseg.core.train import TrainSchedule, train
from pphumanseg.synth import write_dataset
from pphumanseg.utils.paddle3_compat import paddleseg_training_on_paddle3

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(REPO, "configs/connectnet/connectnet_portrait_398x224_scl.yml")


def build(config_path, data_root, batch_size, iters):
    """Fresh model, optimizer, losses and train dataset, identically initialised every time.

    Returns:
        tuple: (model, optimizer, losses, dataset, list receiving (wall, process CPU) times at
        every optimizer step)
    """
    opts = [f"train_dataset.dataset_root={data_root}", f"val_dataset.dataset_root={data_root}"]
    config = load_config(config_path, opts, batch_size=batch_size, iters=iters)
    paddle.seed(0)
    builder = ComponentBuilder(config, config_path)
    optimizer = builder.build("optimizer")
    stamps = []
    untimed_step = optimizer.step

    def timed_step():
        untimed_step()
        stamps.append((time.perf_counter(), time.process_time()))

    optimizer.step = timed_step
    return (builder.build("model"), optimizer, builder.build("loss"), builder.build("train_dataset"),
            stamps)


def run_pphumanseg(config_path, data_root, batch_size, iters, save_dir):
    model, optimizer, losses, dataset, stamps = build(config_path, data_root, batch_size, iters)
    schedule = TrainSchedule(iters, batch_size, save_interval=iters, log_iters=iters, seed=0)
    train(model, optimizer, losses, dataset, save_dir, schedule)
    return stamps


def run_paddleseg(config_path, data_root, batch_size, iters, save_dir):
    model, optimizer, losses, dataset, stamps = build(config_path, data_root, batch_size, iters)
    with paddleseg_training_on_paddle3():
        paddleseg.core.train(model, dataset, optimizer=optimizer, save_dir=save_dir, iters=iters,
                             batch_size=batch_size, save_interval=iters, log_iters=iters,
                             losses=losses)
    return stamps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--iters", type=int, default=12, help="iterations per run")
    parser.add_argument("--warmup", type=int, default=2, help="first iterations not timed")
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs per loop")
    args = parser.parse_args()
    if args.iters < args.warmup + 2:
        parser.error("--iters must exceed --warmup by at least 2")
    logger.log_level = 1  # warnings and errors only: keep the JSON lines readable
    runners = {"pphumanseg": run_pphumanseg, "paddleseg": run_paddleseg}
    speeds = {key: {name: [] for name in runners} for key in ("images_per_s", "images_per_cpu_s")}
    with tempfile.TemporaryDirectory() as work:
        data_root = os.path.join(work, "data")
        # Two training videos of 2 batches each: enough distinct frames, little generation time.
        write_dataset(data_root, videos=4, frames=2 * args.batch_size, size=(398, 224), seed=0,
                      split=(0.5, 0.25, 0.25))
        for repeat in range(args.repeats):
            for name, runner in runners.items():
                stamps = runner(args.config, data_root, args.batch_size, args.iters,
                                os.path.join(work, f"{name}_{repeat}"))
                result = {"trainer": name, "repeat": repeat, "batch_size": args.batch_size,
                          "timed_iters": len(stamps) - args.warmup - 1}
                for clock, key in ((0, "images_per_s"), (1, "images_per_cpu_s")):
                    times = [stamp[clock] for stamp in stamps[args.warmup:]]
                    seconds = statistics.median(b - a for a, b in zip(times, times[1:]))
                    result[key] = round(args.batch_size / seconds, 3)
                    speeds[key][name].append(result[key])
                print(json.dumps(result), flush=True)
    summary = {"summary": True, "config": os.path.relpath(args.config, REPO)}
    for key, by_trainer in speeds.items():
        medians = {name: statistics.median(values) for name, values in by_trainer.items()}
        summary.update({f"{name}_{key}": round(value, 3) for name, value in medians.items()})
        summary[f"ratio_{key}"] = round(medians["pphumanseg"] / medians["paddleseg"], 3)
    summary["load_average"] = [round(v, 2) for v in os.getloadavg()]
    summary["omp_num_threads"] = os.environ.get("OMP_NUM_THREADS")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
