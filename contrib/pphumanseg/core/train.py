"""The training loop of ``pphumanseg train``.

One iteration: seeded batch -> forward -> named loss terms -> backward -> optimizer and lr
scheduler step. Every ``log_iters`` it logs each loss term, lr, speed and ETA (and writes them to
VisualDL); every ``save_interval`` it evaluates, writes an atomic checkpoint and keeps
``best_model/`` by validation mIoU. Only rank 0 logs and writes files; every rank trains.
"""
import glob
import os
import re
import shutil
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np
import paddle
from paddleseg.utils import logger
from paddleseg.utils.timer import TimeAverager, calculate_eta

from pphumanseg.core import checkpoint
from pphumanseg.core.config import ComponentBuilder, check_dataset_root, load_config
from pphumanseg.core.device import make_data_parallel, rank_and_process_count, set_device
from pphumanseg.core.evaluate import InferenceAugmentation, check_val_dataset, evaluate, log_results
from pphumanseg.core.loss_terms import loss_terms
from pphumanseg.core.sampling import EpochBatchSampler, SeededDataset
from pphumanseg.models.weights import check_weights_match
from pphumanseg.utils.atomic_write import recover_directories
from pphumanseg.utils.errors import ParameterError, UsageError
from pphumanseg.utils.paddle3_compat import cross_entropy_on_paddle3


@dataclass
class TrainSchedule:
    """How long to train and how often to log, evaluate and save; its defaults are those of
    ``pphumanseg train``.

    Args:
        iters (int): total iterations.
        batch_size (int): samples per iteration on each process.
        save_interval (int): iterations between checkpoints (and evaluations with ``do_eval``).
        log_iters (int): iterations between log lines.
        keep_checkpoint_max (int): newest ``iter_*`` checkpoints kept; 0 or less keeps all.
        seed (int, optional): seed of shuffles, augmentation and dropout; None = the resumed
            checkpoint's seed, or 0 for a new run.
        num_workers (int): data loader processes.
    """

    iters: int
    batch_size: int
    save_interval: int = 1000
    log_iters: int = 10
    keep_checkpoint_max: int = 5
    seed: Optional[int] = None
    num_workers: int = 0


class _TrainLogInterval:
    """Loss terms and timings since the last log line, averaged into the next one (rank 0 only)."""

    def __init__(self, schedule, iters_per_epoch, vdl_writer):
        self.schedule = schedule
        self.iters_per_epoch = iters_per_epoch
        self.vdl_writer = vdl_writer
        self.reset()

    def reset(self):
        self.term_sums = {}
        self.steps = 0
        self.batch_time = TimeAverager()
        self.reader_time = TimeAverager()

    def record(self, terms, batch_seconds, reader_seconds):
        for name, value in terms:
            self.term_sums[name] = self.term_sums.get(name, 0.0) + value
        self.steps += 1
        self.batch_time.record(batch_seconds, num_samples=self.schedule.batch_size)
        self.reader_time.record(reader_seconds)

    def write(self, iteration, lr):
        means = {name: total / self.steps for name, total in self.term_sums.items()}
        loss = sum(means.values())
        terms = ", ".join(f"{name}: {value:.4f}" for name, value in means.items())
        eta = calculate_eta(self.schedule.iters - iteration, self.batch_time.get_average())
        logger.info(f"[TRAIN] epoch: {(iteration - 1) // self.iters_per_epoch + 1}, "
                    f"iter: {iteration}/{self.schedule.iters}, loss: {loss:.4f} ({terms}), "
                    f"lr: {lr:.6f}, batch_cost: {self.batch_time.get_average():.4f}, "
                    f"reader_cost: {self.reader_time.get_average():.5f}, "
                    f"ips: {self.batch_time.get_ips_average():.4f} samples/sec | ETA {eta}")
        if self.vdl_writer is not None:
            self.vdl_writer.add_scalar("Train/loss", loss, iteration)
            for name, value in means.items():
                self.vdl_writer.add_scalar(f"Train/loss_{name}", value, iteration)
            self.vdl_writer.add_scalar("Train/lr", lr, iteration)
            self.vdl_writer.add_scalar("Train/batch_cost", self.batch_time.get_average(), iteration)
            self.vdl_writer.add_scalar("Train/ips", self.batch_time.get_ips_average(), iteration)
        self.reset()


def train(model, optimizer, losses, train_dataset, save_dir, schedule, val_dataset=None,
          resume_model=None, use_vdl=False, device="cpu", evaluation=None):
    """Trains ``model`` and writes checkpoints under ``save_dir``.

    Args:
        model (paddle.nn.Layer): the model; wrapped in DataParallel when several processes run.
        optimizer (paddle.optimizer.Optimizer): built on ``model``'s parameters with an lr scheduler.
        losses (dict): ``{'types': [...], 'coef': [...]}`` as built from the config.
        train_dataset (paddle.io.Dataset): training samples (mode 'train').
        save_dir (str): output directory for ``iter_N/``, ``best_model/`` and VisualDL logs.
        schedule (TrainSchedule): iterations, batch size, intervals, seed, workers.
        val_dataset (paddle.io.Dataset, optional): evaluated at every save; enables ``best_model``.
        resume_model (str, optional): checkpoint directory to continue from.
        use_vdl (bool): write VisualDL scalars to ``save_dir``.
        device (str): 'cpu' or 'gpu' (SyncBatchNorm is used across GPUs), as selected.
        evaluation (dict, optional): keyword arguments of :func:`pphumanseg.core.evaluate.evaluate`
            other than model and dataset (num_classes, ignore_index, augmentation).

    Returns:
        dict: ``iter`` reached, ``best_miou`` and ``best_iter`` (-1 without validation).
    """
    rank, num_ranks = rank_and_process_count()
    state = {"iter": 0, "best_miou": -1.0, "best_iter": -1, "seed": schedule.seed}
    if resume_model:
        model_state, optimizer_state, state = checkpoint.load_resume_state(resume_model)
        check_weights_match(model, model_state, resume_model)
        model.set_state_dict(model_state)
        checkpoint.set_optimizer_state(optimizer, model, optimizer_state)
        logger.info(f"Resumed from {resume_model} at iter {state['iter']}")
    seed = schedule.seed if schedule.seed is not None else state.get("seed") or 0
    state["seed"] = seed
    sampler = EpochBatchSampler(len(train_dataset), schedule.batch_size, seed, rank, num_ranks)
    iters_per_epoch = len(sampler)
    if iters_per_epoch == 0:
        raise UsageError(f"train_dataset has {len(train_dataset)} samples, fewer than one batch "
                         f"({schedule.batch_size} per process x {num_ranks} processes)")
    train_model, model = make_data_parallel(model, device)
    loader = paddle.io.DataLoader(SeededDataset(train_dataset), batch_sampler=sampler,
                                  num_workers=schedule.num_workers, return_list=True)
    writes = rank == 0
    vdl_writer = None
    if writes:
        os.makedirs(save_dir, exist_ok=True)
        recover_directories(save_dir)
        if use_vdl:
            from visualdl import LogWriter
            vdl_writer = LogWriter(logdir=save_dir)
    log_interval = _TrainLogInterval(schedule, iters_per_epoch, vdl_writer)
    lr_scheduler = optimizer._learning_rate
    iteration = state["iter"]
    model.train()
    try:
        while iteration < schedule.iters:
            sampler.start_at(iteration // iters_per_epoch, iteration % iters_per_epoch)
            batch_start = time.time()
            for data in loader:
                reader_seconds = time.time() - batch_start
                iteration += 1
                # Dropout and other in-model randomness depend only on (seed, iteration): resumable.
                paddle.seed(int(np.random.SeedSequence([seed, iteration]).generate_state(1)[0]))
                terms = _train_step(train_model, model, optimizer, losses, data)
                lr = optimizer.get_lr()
                if isinstance(lr_scheduler, paddle.optimizer.lr.ReduceOnPlateau):
                    lr_scheduler.step(sum(value for _, value in terms))
                elif isinstance(lr_scheduler, paddle.optimizer.lr.LRScheduler):
                    lr_scheduler.step()
                if writes:
                    log_interval.record(terms, time.time() - batch_start, reader_seconds)
                    if iteration % schedule.log_iters == 0:
                        log_interval.write(iteration, lr)
                if writes and (iteration % schedule.save_interval == 0 or iteration == schedule.iters):
                    _save_and_evaluate(model, optimizer, save_dir, schedule, iteration,
                                       iters_per_epoch, state, val_dataset, evaluation, vdl_writer)
                if iteration >= schedule.iters:
                    break
                batch_start = time.time()
    finally:
        if vdl_writer is not None:
            vdl_writer.close()
    return {"iter": iteration, "best_miou": state["best_miou"], "best_iter": state["best_iter"]}


def _train_step(train_model, model, optimizer, losses, data):
    """One forward/backward/update; returns [(term name, float value)]."""
    labels = data["label"].astype("int64")
    logits_list = train_model(data["img"])
    with cross_entropy_on_paddle3():  # configs' losses are mostly paddleseg's CrossEntropyLoss
        if hasattr(model, "loss_computation"):
            terms = [(f"loss_{i}", value)
                     for i, value in enumerate(model.loss_computation(logits_list, losses, data))]
        else:
            edges = data["edge"].astype("int64") if "edge" in data else None
            terms = loss_terms(logits_list, labels, losses, edges)
    loss = paddle.add_n([value.reshape([]) for _, value in terms])
    loss.backward()
    optimizer.step()
    optimizer.clear_grad()
    return [(name, float(value)) for name, value in terms]


def _save_and_evaluate(model, optimizer, save_dir, schedule, iteration, iters_per_epoch, state,
                       val_dataset, evaluation, vdl_writer):
    """Evaluates, saves ``iter_N`` and ``best_model`` and prunes old checkpoints (rank 0 only)."""
    state["iter"] = iteration
    state["epoch"] = iteration // iters_per_epoch
    if val_dataset is not None:
        results = evaluate(model, val_dataset, num_workers=min(schedule.num_workers, 1),
                           **(evaluation or {}))
        log_results(results)
        if vdl_writer is not None:
            for key in ("miou", "acc", "kappa", "sc", "temporal_stability"):
                if key in results:
                    vdl_writer.add_scalar(f"Evaluate/{key}", results[key], iteration)
        if results["miou"] > state["best_miou"]:
            state["best_miou"], state["best_iter"] = results["miou"], iteration
            checkpoint.save_checkpoint(os.path.join(save_dir, "best_model"), model,
                                       state={"iter": iteration, "miou": results["miou"]})
        logger.info(f"[EVAL] The model with the best validation mIoU ({state['best_miou']:.4f}) "
                    f"was saved at iter {state['best_iter']}.")
    checkpoint.save_checkpoint(os.path.join(save_dir, f"iter_{iteration}"), model, optimizer,
                               dict(state))
    _prune_checkpoints(save_dir, schedule.keep_checkpoint_max)


def _prune_checkpoints(save_dir, keep):
    if keep <= 0:
        return
    found = []
    for path in glob.glob(os.path.join(save_dir, "iter_*")):
        match = re.fullmatch(r"iter_(\d+)", os.path.basename(path))
        if match and os.path.isdir(path):
            found.append((int(match.group(1)), path))
    for _, path in sorted(found)[:-keep]:
        shutil.rmtree(path)


def train_from_config(config_path, opts=None, save_dir="output", *, iters=None, batch_size=None,
                      learning_rate=None, save_interval=TrainSchedule.save_interval,
                      keep_checkpoint_max=TrainSchedule.keep_checkpoint_max, do_eval=False,
                      use_vdl=False, resume_model=None, seed=None,
                      num_workers=TrainSchedule.num_workers, log_iters=TrainSchedule.log_iters,
                      device=None):
    """``pphumanseg train``: builds everything from the config and calls :func:`train`.

    Arguments mirror PaddleSeg's ``tools/train.py`` flags (see :class:`TrainSchedule`);
    ``iters``, ``batch_size`` and ``learning_rate`` override the config when given.
    """
    device = set_device(device)
    required = ("model", "train_dataset", "optimizer", "lr_scheduler", "loss")
    config = load_config(config_path, opts, required=required + (("val_dataset",) if do_eval else ()),
                         learning_rate=learning_rate, batch_size=batch_size, iters=iters)
    for section in ("train_dataset", "val_dataset") if do_eval else ("train_dataset",):
        check_dataset_root(config, section)
    for field in ("iters", "batch_size"):
        if not isinstance(config.dic.get(field), int) or config.dic[field] < 1:
            raise UsageError(f"{config_path}: '{field}' must be a positive integer "
                             f"(got {config.dic.get(field)!r})")
    for parameter, value in (("save_interval", save_interval), ("log_iters", log_iters)):
        if value < 1:
            raise ParameterError(parameter, value, "must be at least 1")
    paddle.seed(seed or 0)  # weight initialisation
    builder = ComponentBuilder(config, config_path)
    model = builder.build("model")
    train_dataset = builder.build("train_dataset")
    val_dataset = builder.build("val_dataset") if do_eval else None
    if getattr(train_dataset, "temporal", False):
        raise UsageError(f"{config_path}: train_dataset.temporal must be false: training takes "
                         "single frames, not frame pairs")
    if val_dataset is not None:
        check_val_dataset(val_dataset, config_path)
    schedule = TrainSchedule(config.iters, config.batch_size, save_interval=save_interval,
                             log_iters=log_iters, keep_checkpoint_max=keep_checkpoint_max,
                             seed=seed, num_workers=num_workers)
    evaluation = None
    if val_dataset is not None:
        evaluation = {"num_classes": val_dataset.num_classes,
                      "ignore_index": getattr(val_dataset, "ignore_index", 255),
                      "augmentation": InferenceAugmentation.from_test_config(config.test_config)}
    return train(model, builder.build("optimizer"), builder.build("loss"), train_dataset, save_dir,
                 schedule, val_dataset=val_dataset, resume_model=resume_model, use_vdl=use_vdl,
                 device=device, evaluation=evaluation)
