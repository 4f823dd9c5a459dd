"""Evaluation: mIoU, per-class IoU, accuracy, Kappa, SC and, on video datasets, temporal stability.

Images are evaluated one at a time at their original resolution (predictions are mapped back
through the val transforms with paddleseg's ``inference``/``aug_inference``, which also provide
PaddleSeg's flip and multi-scale test-time augmentation). IoU, accuracy and Kappa come from
``paddleseg.utils.metrics``; SC from ``pphumanseg.metrics.connectivity``; temporal stability
(defined in ``pphumanseg.metrics.temporal``) is measured over ``dataset.consecutive_pairs()``
when the dataset has videos.
"""
import collections
import json
import math
import time
from dataclasses import dataclass
from typing import List, Optional, Union

import numpy as np
import paddle
from paddleseg.core import infer
from paddleseg.utils import logger
from paddleseg.utils import metrics as ppseg_metrics
from tqdm import tqdm

from pphumanseg.metrics.connectivity import SCMetric
from pphumanseg.metrics.temporal import TemporalStability
from pphumanseg.utils.atomic_write import atomic_write_text
from pphumanseg.utils.errors import UsageError


@dataclass
class InferenceAugmentation:
    """PaddleSeg's test_config options: flips, scales and sliding-window inference.

    Args:
        scales (float|list[float]): input scales whose logits are averaged.
        flip_horizontal (bool): also average the horizontally flipped prediction.
        flip_vertical (bool): also average the vertically flipped prediction.
        is_slide (bool): infer by sliding window of ``crop_size`` (w, h) moved by ``stride``.
        crop_size (list[int], optional): sliding window size.
        stride (list[int], optional): sliding window step.
    """

    scales: Union[float, List[float]] = 1.0
    flip_horizontal: bool = False
    flip_vertical: bool = False
    is_slide: bool = False
    crop_size: Optional[List[int]] = None
    stride: Optional[List[int]] = None

    @classmethod
    def from_test_config(cls, test_config):
        """Builds it from a config's ``test_config`` section (PaddleSeg's keys; ``aug_eval`` gates
        flips and scales)."""
        test_config = dict(test_config or {})
        known = ("aug_eval", "scales", "flip_horizontal", "flip_vertical", "is_slide", "crop_size", "stride")
        for key in test_config:
            if key not in known:
                raise UsageError(f"test_config.{key}: unknown key; known keys: {', '.join(known)}")
        aug_eval = test_config.pop("aug_eval", False)
        if not aug_eval:
            for key in ("scales", "flip_horizontal", "flip_vertical"):
                test_config.pop(key, None)
        return cls(**test_config)

    @property
    def augmented(self):
        return self.flip_horizontal or self.flip_vertical or self.scales not in (1.0, [1.0], (1.0,))

    def predict(self, model, image, trans_info):
        """Returns the class map [1, 1, H, W] (int32) of one image at its original size."""
        slide = dict(is_slide=self.is_slide, crop_size=self.crop_size, stride=self.stride)
        if self.augmented:
            pred, _ = infer.aug_inference(model, image, trans_info, scales=self.scales,
                                          flip_horizontal=self.flip_horizontal,
                                          flip_vertical=self.flip_vertical, **slide)
        else:
            pred, _ = infer.inference(model, image, trans_info=trans_info, **slide)
        return pred


class _FramePairs:
    """Measures frame pairs as frames arrive in index order, keeping a frame only while needed."""

    def __init__(self, pairs, metric):
        self.metric = metric
        self.partners = collections.defaultdict(list)
        for first, second in pairs:
            self.partners[first].append(second)
            self.partners[second].append(first)
        self.pending = {}  # index -> [pred, label, number of later partners still to come]

    def add(self, index, pred, label):
        for other in self.partners.get(index, ()):
            if other < index:
                other_pred, other_label, _ = self.pending[other]
                self.metric.update(other_pred, pred, other_label, label)
                self.pending[other][2] -= 1
                if self.pending[other][2] == 0:
                    del self.pending[other]
        later = sum(other > index for other in self.partners.get(index, ()))
        if later:
            self.pending[index] = [pred, label, later]


def evaluate(model, dataset, num_classes, ignore_index=255, augmentation=None, num_workers=0,
             progress=False):
    """Evaluates ``model`` on every sample of ``dataset`` (mode 'val').

    Args:
        model (paddle.nn.Layer): segmentation model returning a list of logits.
        dataset (paddle.io.Dataset): items with ``img``, ``label`` [1, H, W] and ``trans_info``;
            with ``consecutive_pairs()`` it is treated as video and temporal stability is measured.
        num_classes (int): number of classes.
        ignore_index (int): label value excluded from every metric.
        augmentation (InferenceAugmentation, optional): flips/scales/sliding window; default none.
        num_workers (int): data loader processes.
        progress (bool): show a progress bar.

    Returns:
        dict: miou, class_iou, acc, class_precision, class_recall, kappa, dice, sc, sc_per_class,
        and temporal_stability, flicker_rate for video datasets; plus images and seconds.
    """
    augmentation = augmentation or InferenceAugmentation()
    loader = paddle.io.DataLoader(dataset, batch_size=1, shuffle=False, num_workers=num_workers,
                                  return_list=True)
    intersect = np.zeros(num_classes, np.int64)
    pred_area = np.zeros(num_classes, np.int64)
    label_area = np.zeros(num_classes, np.int64)
    sc_metric = SCMetric(num_classes, ignore_index=ignore_index)
    temporal = None
    if hasattr(dataset, "consecutive_pairs"):
        temporal = _FramePairs(dataset.consecutive_pairs(), TemporalStability(ignore_index))
    was_training = model.training
    model.eval()
    start = time.time()
    with paddle.no_grad():
        for index, data in enumerate(tqdm(loader, disable=not progress, desc="eval")):
            pred = augmentation.predict(model, data["img"], data["trans_info"]).numpy()[0, 0]
            label = data["label"].numpy().astype(np.int64)[0, 0]
            valid = label != ignore_index
            p, l = pred[valid], label[valid]
            intersect += np.bincount(p[p == l], minlength=num_classes)[:num_classes]
            pred_area += np.bincount(p, minlength=num_classes)[:num_classes]
            label_area += np.bincount(l, minlength=num_classes)[:num_classes]
            sc_metric.update(pred, label)
            if temporal is not None:
                temporal.add(index, pred, label)
    if was_training:
        model.train()
    results = _area_metrics(intersect, pred_area, label_area)
    results.update(sc_metric.result())
    if temporal is not None:
        results.update(temporal.metric.result())
    results["images"] = len(dataset)
    results["seconds"] = time.time() - start
    return results


def _area_metrics(intersect, pred_area, label_area):
    tensors = [paddle.to_tensor(area) for area in (intersect, pred_area, label_area)]
    class_iou, miou = ppseg_metrics.mean_iou(*tensors)
    acc, class_precision, class_recall = ppseg_metrics.class_measurement(*tensors)
    class_dice, mean_dice = ppseg_metrics.dice(*tensors)
    kappa = ppseg_metrics.kappa(*tensors) if label_area.sum() else float("nan")
    return {"miou": float(miou), "class_iou": [float(v) for v in class_iou], "acc": float(acc),
            "class_precision": [float(v) for v in class_precision],
            "class_recall": [float(v) for v in class_recall],
            "kappa": float(kappa), "dice": float(mean_dice)}


def log_results(results):
    """Logs the results in PaddleSeg's ``[EVAL]`` style."""
    line = (f"[EVAL] #Images: {results['images']} mIoU: {results['miou']:.4f} "
            f"Acc: {results['acc']:.4f} Kappa: {results['kappa']:.4f} Dice: {results['dice']:.4f} "
            f"SC: {results['sc']:.4f}")
    if "temporal_stability" in results:
        line += (f" Temporal stability: {results['temporal_stability']:.4f} "
                 f"(flicker rate {results['flicker_rate']:.4f})")
    logger.info(line)
    logger.info("[EVAL] Class IoU: " + str(np.round(results["class_iou"], 4)))
    logger.info("[EVAL] Class SC: " + str(np.round(results["sc_per_class"], 4)))


def json_safe(results):
    """Replaces NaN (e.g. a metric with nothing to measure) by None so the JSON is standard."""
    def clean(value):
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    return {key: clean(value) for key, value in results.items()}


def check_val_dataset(dataset, config_path):
    """Raises UsageError unless the config's val_dataset gives what :func:`evaluate` compares:
    single frames (it measures temporal stability over ``consecutive_pairs()`` itself) whose
    labels keep the image's own size (mode 'val')."""
    if getattr(dataset, "temporal", False):
        raise UsageError(f"{config_path}: val_dataset.temporal must be false: evaluation takes single "
                         "frames and measures temporal stability over consecutive_pairs() itself")
    mode = getattr(dataset, "mode", "val")
    if mode != "val":
        raise UsageError(f"{config_path}: val_dataset.mode must be 'val' for evaluation (got {mode!r}): "
                         "only 'val' items keep labels at the image's own size, where predictions are compared")


def evaluate_from_config(config_path, model_path, opts=None, augmentation=None, num_workers=0,
                         device=None, save_json=None, progress=True):
    """``pphumanseg val``: evaluates a checkpoint on the config's ``val_dataset``.

    Args:
        config_path (str): config with ``model`` and ``val_dataset``.
        model_path (str, optional): weights (any source of ``pphumanseg.models.weights``);
            default: the config's ``model.pretrained``.
        opts (list[str], optional): config overrides.
        augmentation (InferenceAugmentation, optional): default: the config's ``test_config``.
        num_workers (int): data loader processes.
        device (str, optional): 'cpu', 'gpu', or None for a GPU when usable, else the CPU.
        save_json (str, optional): also write the results there (NaN as null).
        progress (bool): show a progress bar.

    Returns:
        dict: the results of :func:`evaluate`.
    """
    from pphumanseg.core.config import ComponentBuilder, check_dataset_root, load_config
    from pphumanseg.core.device import set_device

    set_device(device)
    config = load_config(config_path, opts, required=("model", "val_dataset"))
    check_dataset_root(config, "val_dataset")
    builder = ComponentBuilder(config, config_path)
    model = builder.build_trained_model(model_path)
    dataset = builder.build("val_dataset")
    check_val_dataset(dataset, config_path)
    if len(dataset) == 0:
        raise UsageError(f"{config_path}: val_dataset has no samples")
    if augmentation is None:
        augmentation = InferenceAugmentation.from_test_config(config.test_config)
    results = evaluate(model, dataset, dataset.num_classes, getattr(dataset, "ignore_index", 255),
                       augmentation, num_workers, progress)
    log_results(results)
    if save_json:
        write_json(results, save_json)
    return results


def write_json(results, path):
    """Writes ``results`` as JSON through a temporary file."""
    atomic_write_text(path, json.dumps(json_safe(results), indent=2))
