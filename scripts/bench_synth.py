"""Generator speed in frames/s, one JSON line per measurement.

    python scripts/bench_synth.py [--size 398x224] [--videos 4] [--frames 50] [--preset default]

Measures rendering alone (``render_clip``) and rendering plus writing the dataset files
(``write_dataset``), on one core (OpenCV limited to one thread). Wall-clock frames/s depends on
what else runs, so each line also gives frames per second of this process's CPU time and the
1-minute load average.
"""
import argparse
import json
import os
import platform
import tempfile
import time

import cv2

from pphumanseg.cli.synth import parse_size
from pphumanseg.synth import render_clip, write_dataset


def measure(label, work, frames, args):
    start, cpu_start = time.perf_counter(), time.process_time()
    work()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({"measure": label, "size": args.size, "preset": args.preset, "videos": args.videos,
                      "frames_per_video": args.frames, "seconds": round(seconds, 3),
                      "frames_per_s": round(frames / seconds, 1),
                      "frames_per_cpu_s": round(frames / cpu_seconds, 1),
                      "load_1min": round(os.getloadavg()[0], 2),
                      "threads": cv2.getNumThreads(), "cpu": platform.processor() or platform.machine()}),
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="398x224")
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--preset", default="default")
    args = parser.parse_args()
    if args.videos < 3:
        parser.error("--videos must be at least 3 (the dataset needs train, val and test videos)")
    cv2.setNumThreads(1)
    size = parse_size(args.size)
    total = args.videos * args.frames

    def render():
        for video in range(args.videos):
            for _ in render_clip(size, args.frames, seed=(0, video), preset=args.preset):
                pass

    measure("render", render, total, args)
    with tempfile.TemporaryDirectory() as out:
        measure("render+write", lambda: write_dataset(out, args.videos, args.frames, size, seed=0,
                                                      preset=args.preset), total, args)


if __name__ == "__main__":
    main()
