"""Benchmark: pphumanseg's SCLoss against paddleseg's SemanticConnectivityLoss, and SCL's share of a
ConnectNet CE+SCL training step. Prints one JSON object per line.

The batch imitates early-training portrait predictions: one or two people per image, predicted
mostly right but fragmented by smooth noise into at least ``--min-components`` foreground
components per image. Every timing is forward + backward; implementations alternate within each
repeat so that they see the same machine load, and medians are reported.

    python scripts/bench_scl.py                 # 8x2x224x398, 15 repeats, then the training step
    python scripts/bench_scl.py --repeats 3 --train-steps 0
"""
import argparse
import json
import os
import time

import cv2
import numpy as np
import paddle

import pphumanseg  # noqa: F401  (registrations)
from paddleseg.cvlibs import manager
from paddleseg.models.losses import CrossEntropyLoss, MixedLoss, SemanticConnectivityLoss
from pphumanseg.losses import SCLoss
from pphumanseg.utils.paddle3_compat import cross_entropy_on_paddle3


def portrait_label(rng, height, width):
    """A 0/1 label with one or two head-and-shoulders silhouettes."""
    label = np.zeros((height, width), np.uint8)
    for _ in range(rng.integers(1, 3)):
        center = int(rng.uniform(0.25, 0.75) * width)
        scale = rng.uniform(0.7, 1.1) * height
        cv2.ellipse(label, (center, int(0.3 * height)), (int(0.11 * scale), int(0.14 * scale)),
                    0, 0, 360, 1, -1)
        cv2.ellipse(label, (center, height), (int(0.32 * scale), int(0.55 * scale)),
                    0, 180, 360, 1, -1)
    return label


def fragmented_logits(rng, label, noise):
    """2-class logits: a blurred signed label plus smooth noise of relative strength ``noise``."""
    margin = cv2.GaussianBlur(label.astype(np.float32) * 2 - 1, (0, 0), 6)
    smooth = cv2.GaussianBlur(rng.standard_normal(label.shape).astype(np.float32), (0, 0), 3)
    foreground = margin + 0.5 * noise * smooth / smooth.std()
    return np.stack([-foreground, foreground])


def component_count(mask):
    return cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[0] - 1


def fragmented_batch(rng, batch, height, width, min_components):
    labels, logits, counts = [], [], []
    for _ in range(batch):
        label, noise = portrait_label(rng, height, width), 1.0
        while True:
            image_logits = fragmented_logits(rng, label, noise)
            foreground = image_logits[1] > image_logits[0]
            if component_count(foreground) >= min_components:
                break
            noise *= 1.1
        labels.append(label)
        logits.append(image_logits)
        counts.append({"pred_foreground": component_count(foreground),
                       "pred_background": component_count(~foreground),
                       "label_foreground": component_count(label == 1),
                       "pixel_accuracy": round(float((foreground == label).mean()), 4)})
    return (np.stack(logits).astype(np.float32), np.stack(labels).astype(np.int64), counts)


def forward_backward_ms(loss, logits, labels):
    x = paddle.to_tensor(logits, stop_gradient=False)
    start = time.perf_counter()
    loss(x, labels).backward()
    return (time.perf_counter() - start) * 1e3


def emit(record):
    print(json.dumps(record), flush=True)


def bench_losses(args):
    rng = np.random.default_rng(args.seed)
    logits, labels, counts = fragmented_batch(rng, args.batch, args.height, args.width,
                                              args.min_components)
    emit({"bench": "batch", "logits_shape": list(logits.shape), "images": counts})
    labels = paddle.to_tensor(labels)
    losses = {
        "pphumanseg.SCLoss()": SCLoss(),
        "paddleseg.SemanticConnectivityLoss() (default cap max_pred_num_conn=10)":
            SemanticConnectivityLoss(),
        "paddleseg.SemanticConnectivityLoss(max_pred_num_conn=10**6) (all components, like ours)":
            SemanticConnectivityLoss(max_pred_num_conn=10 ** 6),
    }
    values, times = {}, {name: [] for name in losses}
    for name, loss in losses.items():  # warm-up (compiles the backward too); records the values
        value = loss(paddle.to_tensor(logits, stop_gradient=False), labels)
        value.backward()
        values[name] = float(value)
    for _ in range(args.repeats):
        for name, loss in losses.items():
            times[name].append(forward_backward_ms(loss, logits, labels))
    medians = {name: float(np.median(values_ms)) for name, values_ms in times.items()}
    for name in losses:
        emit({"bench": "loss_forward_backward", "impl": name, "loss": values[name],
              "median_ms": round(medians[name], 2), "ms": [round(t, 2) for t in times[name]]})
    ours = medians["pphumanseg.SCLoss()"]
    emit({"bench": "speedup", "repeats": args.repeats,
          **{f"vs {name}": round(median / ours, 1) for name, median in medians.items()
             if name != "pphumanseg.SCLoss()"}})
    return logits.shape


def bench_training_step(args):
    """Median ConnectNet train step with CE+0.1*SCL and with CE alone; SCL's share of the former."""
    paddle.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    _, labels, _ = fragmented_batch(rng, args.batch, args.height, args.width, 0)
    images = paddle.to_tensor(rng.normal(0, 1, (args.batch, 3, args.height, args.width))
                              .astype(np.float32))
    labels = paddle.to_tensor(labels)
    model = manager.MODELS["ConnectNet"](num_classes=2)
    optimizer = paddle.optimizer.Momentum(0.01, parameters=model.parameters())
    sc_loss = SCLoss()
    objectives = {"ce+0.1*scl": MixedLoss([CrossEntropyLoss(), sc_loss], [1, 0.1]),
                  "ce": MixedLoss([CrossEntropyLoss()], [1])}
    step_ms = {name: [] for name in objectives}
    scl_ms = []
    for step in range(args.train_steps + 1):  # the first step of each is a warm-up
        order = list(objectives.items())
        for name, objective in order if step % 2 else order[::-1]:
            start = time.perf_counter()
            loss = sum(objective(model(images)[0], labels))
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
            if step:
                step_ms[name].append((time.perf_counter() - start) * 1e3)
        logits = model(images)[0].detach().numpy()
        if step:
            scl_ms.append(forward_backward_ms(sc_loss, logits, labels))
    step = {name: float(np.median(values)) for name, values in step_ms.items()}
    scl = float(np.median(scl_ms))
    emit({"bench": "train_step", "model": "ConnectNet", "batch": [args.batch, 3, args.height,
                                                                  args.width],
          "steps": args.train_steps, "step_ms_ce_scl": round(step["ce+0.1*scl"], 1),
          "step_ms_ce": round(step["ce"], 1), "scl_forward_backward_ms": round(scl, 2),
          "scl_share_of_step": round(scl / step["ce+0.1*scl"], 4),
          "step_difference_share": round((step["ce+0.1*scl"] - step["ce"]) / step["ce+0.1*scl"],
                                         4)})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--height", type=int, default=224)
    parser.add_argument("--width", type=int, default=398)
    parser.add_argument("--min-components", type=int, default=30,
                        help="predicted foreground components per image, at least")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--train-steps", type=int, default=5,
                        help="timed ConnectNet steps per objective (0 skips the training bench)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    emit({"bench": "environment", "paddle": paddle.__version__, "device": paddle.get_device(),
          "cpu_count": os.cpu_count(), "load_average": list(os.getloadavg())})
    bench_losses(args)
    if args.train_steps:
        with cross_entropy_on_paddle3():
            bench_training_step(args)
    emit({"bench": "environment_after", "load_average": list(os.getloadavg())})


if __name__ == "__main__":
    main()
