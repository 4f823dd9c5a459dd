"""Training speed of ``pphumanseg train``'s loop vs paddleseg's ``core.train`` on the same data.

Both loops train the same config (default: ConnectNet, CE + SC loss, 398x224) with the same batch
size on generated PP-HumanSeg14K-style frames. Each loop runs twice, for ``--short`` and for
``--long`` iterations, in fresh model/optimizer/dataset objects; images/s is
``batch_size * (long - short) / (time_long - time_short)``, which cancels fixed costs (loader
start, final checkpoint, paddleseg's FLOPs count and 1 s sleep). Prints one JSON line per loop
and repeat, then a summary line with the median speeds and their ratio (ours / paddleseg).

    .venv/bin/python scripts/bench_train.py [--config C] [--batch_size 8] [--short 2] [--long 10]
"""
import argparse
import json
import os
import statistics
import tempfile
import time

import paddle
import paddleseg.core
import pphumanseg  # noqa: F401  (patches paddleseg for Paddle 3, registers components)
from paddleseg.utils import logger
from pphumanseg.core.config import ComponentBuilder, load_config
from pphumanseg.core.train import TrainSchedule, train
from pphumanseg.synth import write_dataset

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(REPO, "configs/connectnet/connectnet_portrait_398x224_scl.yml")


def build(config_path, data_root, batch_size, iters):
    """Fresh model, optimizer, losses and train dataset, identically initialised every time."""
    opts = [f"train_dataset.dataset_root={data_root}", f"val_dataset.dataset_root={data_root}"]
    config = load_config(config_path, opts, batch_size=batch_size, iters=iters)
    paddle.seed(0)
    builder = ComponentBuilder(config, config_path)
    return (builder.build("model"), builder.build("optimizer"), builder.build("loss"),
            builder.build("train_dataset"))


def run_pphumanseg(config_path, data_root, batch_size, iters, save_dir):
    model, optimizer, losses, dataset = build(config_path, data_root, batch_size, iters)
    schedule = TrainSchedule(iters, batch_size, save_interval=iters, log_iters=iters, seed=0)
    start = time.perf_counter()
    train(model, optimizer, losses, dataset, save_dir, schedule)
    return time.perf_counter() - start


def run_paddleseg(config_path, data_root, batch_size, iters, save_dir):
    model, optimizer, losses, dataset = build(config_path, data_root, batch_size, iters)
    start = time.perf_counter()
    paddleseg.core.train(model, dataset, optimizer=optimizer, save_dir=save_dir, iters=iters,
                         batch_size=batch_size, save_interval=iters, log_iters=iters, losses=losses)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--short", type=int, default=2, help="iterations of the short run")
    parser.add_argument("--long", type=int, default=10, help="iterations of the long run")
    parser.add_argument("--repeats", type=int, default=2, help="alternating measurements per loop")
    args = parser.parse_args()
    if args.long <= args.short:
        parser.error("--long must be greater than --short")
    logger.log_level = 1  # warnings and errors only: keep the JSON lines readable
    runners = {"pphumanseg": run_pphumanseg, "paddleseg": run_paddleseg}
    speeds = {name: [] for name in runners}
    with tempfile.TemporaryDirectory() as work:
        data_root = os.path.join(work, "data")
        # Two training videos of 2 batches each: enough distinct frames, little generation time.
        write_dataset(data_root, videos=4, frames=2 * args.batch_size, size=(398, 224), seed=0,
                      split=(0.5, 0.25, 0.25))
        for repeat in range(args.repeats):
            for name, runner in runners.items():
                times = [runner(args.config, data_root, args.batch_size, iters,
                                os.path.join(work, f"{name}_{repeat}_{iters}"))
                         for iters in (args.short, args.long)]
                images_per_s = args.batch_size * (args.long - args.short) / (times[1] - times[0])
                speeds[name].append(images_per_s)
                print(json.dumps({"trainer": name, "repeat": repeat, "batch_size": args.batch_size,
                                  "iters": [args.short, args.long],
                                  "seconds": [round(t, 3) for t in times],
                                  "images_per_s": round(images_per_s, 3)}), flush=True)
    medians = {name: statistics.median(values) for name, values in speeds.items()}
    print(json.dumps({"summary": True, "config": os.path.relpath(args.config, REPO),
                      "pphumanseg_images_per_s": round(medians["pphumanseg"], 3),
                      "paddleseg_images_per_s": round(medians["paddleseg"], 3),
                      "ratio": round(medians["pphumanseg"] / medians["paddleseg"], 3),
                      "load_average": [round(v, 2) for v in os.getloadavg()],
                      "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}))


if __name__ == "__main__":
    main()
