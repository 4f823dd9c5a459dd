"""Does int8 pay for ConnectNet on this CPU? (issue 16, items 2-4): latency and mask agreement.

For each exported model directory (``pphumanseg export --formats onnx``, e.g. the foreground
export of the released PP-HumanSegV1-Lite weights), the opset-11 ``model.onnx`` is converted to
opset 13 (per-channel ``DequantizeLinear`` needs an ``axis``), pre-processed with onnxruntime's
``quant_pre_process`` and quantised with ``quantize_static`` (QDQ, per-channel s8 weights, u8
activations, min-max calibration on ``--calibration_frames`` seeded generated 640x360 frames).
Variants: every quantisable op; only ``Conv``; ``Conv`` except the first ``--keep_float`` convs
(the layers whose quantisation costs the most agreement, found by excluding groups of eight).

One JSON line per model, variant and thread count: median ms of the network (fp32 in the same
run, ``speedup`` = fp32 / int8) and, at one thread, the share of pixels whose person mask
(probability > 0.5, at the network's resolution) equals fp32's on real photos of people
(scikit-image's astronaut and cameraman, matplotlib's Grace Hopper) and on held-out generated
frames.

Usage: python scripts/bench_int8.py --model_dir EXPORT [EXPORT ...] [--threads 1,2]
           [--work_dir output/bench_int8]
Needs onnx and onnxruntime (with its quantization tools), scikit-image and matplotlib (photos).
"""
import argparse
import json
import logging
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_infer import median_ms  # noqa: E402
from real_photos import real_photos  # noqa: E402

REPEATS = 50
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def emit(record):
    print(json.dumps(record), flush=True)


def generated_frames(seed, count):
    from pphumanseg.synth import render_clip

    return [frame for frame, _ in render_clip(size=(640, 360), frames=count, seed=seed)]


def session(path, threads):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def quantize_variants(model_path, folder, calibration, keep_float):
    """{variant: int8 model path}."""
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    os.makedirs(folder, exist_ok=True)
    opset13 = os.path.join(folder, "model_opset13.onnx")
    onnx.save(version_converter.convert_version(onnx.load(model_path), 13), opset13)
    prepared = os.path.join(folder, "model_prepared.onnx")
    # The symbolic pass stops at paddle2onnx's Reshape/Split chains; ONNX shape inference suffices.
    quant_pre_process(opset13, prepared, skip_symbolic_shape=True)
    graph = onnx.load(prepared).graph
    input_name = graph.input[0].name
    convs = [node.name for node in graph.node if node.op_type == "Conv"]

    class Frames(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(calibration)

        def get_next(self):
            batch = next(self.batches, None)
            return None if batch is None else {input_name: batch}

    variants = {"all_ops": {}, "conv_only": {"op_types_to_quantize": ["Conv"]},
                f"conv_first_{keep_float}_float": {"op_types_to_quantize": ["Conv"],
                                                   "nodes_to_exclude": convs[:keep_float]}}
    paths = {}
    for name, options in variants.items():
        paths[name] = os.path.join(folder, f"model_int8_{name}.onnx")
        quantize_static(prepared, paths[name], Frames(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, **options)
    return paths


def timed_sessions(fp32_path, paths, batch, threads, repeats):
    """Yields (variant, session, median ms on ``batch``) for fp32 first, then each int8 variant of
    ``paths``, at ``threads``."""
    for variant, path in {"fp32": fp32_path, **paths}.items():
        runner = session(path, threads)
        feed = {runner.get_inputs()[0].name: batch}
        yield variant, runner, median_ms(lambda: runner.run(None, feed), repeats)


def agreement(reference, candidate, batches):
    name = reference.get_inputs()[0].name
    shares = [np.mean((reference.run(None, {name: b})[0] > 0.5) == (candidate.run(None, {name: b})[0] > 0.5))
              for b in batches]
    return round(100.0 * float(np.mean(shares)), 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model_dir", nargs="+", required=True, help="export directories with model.onnx")
    parser.add_argument("--work_dir", default=os.path.join(REPO, "output", "bench_int8"))
    parser.add_argument("--threads", default="1,2", type=lambda text: [int(n) for n in text.split(",")])
    parser.add_argument("--calibration_frames", type=int, default=16)
    parser.add_argument("--keep_float", type=int, default=8, help="first convs left in float in one variant")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the quantiser logs every tensor
    from pphumanseg_deploy import Predictor

    emit({"kind": "machine", "cpus": os.cpu_count(), "load_average": os.getloadavg()})
    photos = real_photos()
    for model_dir in args.model_dir:
        predictor = Predictor(model_dir, runtime="onnx")
        calibration = [predictor.preprocess(f) for f in generated_frames(3, args.calibration_frames)]
        held_out = [predictor.preprocess(f) for f in generated_frames(8, 12)]
        photo_batches = {name: [predictor.preprocess(image)] for name, image in photos.items()}
        fp32_path = os.path.join(model_dir, "model.onnx")
        label = os.path.basename(os.path.normpath(model_dir))
        paths = quantize_variants(fp32_path, os.path.join(args.work_dir, label), calibration, args.keep_float)
        for threads in args.threads:
            timings = timed_sessions(fp32_path, paths, calibration[0], threads, REPEATS)
            _, fp32, fp32_ms = next(timings)
            emit({"kind": "int8", "model_dir": label, "variant": "fp32", "threads": threads,
                  "median_ms": round(fp32_ms, 3)})
            for variant, int8, int8_ms in timings:
                record = {"kind": "int8", "model_dir": label, "variant": variant, "threads": threads,
                          "median_ms": round(int8_ms, 3), "speedup": round(fp32_ms / int8_ms, 2)}
                if threads == args.threads[0]:
                    record["agreement_pct"] = {photo: agreement(fp32, int8, batches)
                                               for photo, batches in photo_batches.items()}
                    record["agreement_pct"]["generated"] = agreement(fp32, int8, held_out)
                emit(record)
    emit({"kind": "machine", "load_average_after": os.getloadavg()})


if __name__ == "__main__":
    main()
