"""Training checkpoints that are either complete or absent.

A checkpoint is a directory holding ``model.pdparams``, ``model.pdopt`` (optimizer state, which
includes the lr scheduler) and ``train_state.json`` (iteration, epoch, best mIoU so far). It is
written into a hidden staging directory beside its final place and renamed into place only
when every file is on disk (``pphumanseg.utils.atomic_write``), so a process killed at any moment
leaves the previous checkpoint (recovered by the next run or reader if the kill came while it was
moved aside) and never a half-written one under the final name.
"""
import json
import os

import paddle

from pphumanseg.core.model_files import (CHECKPOINT_OPTIMIZER_FILE, CHECKPOINT_STATE_FILE,
                                         CHECKPOINT_WEIGHTS_FILE)
from pphumanseg.utils.atomic_write import recover_directories, replace_directory, staging_directory
from pphumanseg.models.weights import read_state_dict
from pphumanseg.utils.errors import ParameterError, UsageError


def save_checkpoint(directory, model, optimizer=None, state=None):
    """Writes a checkpoint to ``directory`` atomically, replacing an older one of that name.

    Args:
        directory (str): final checkpoint directory, e.g. ``output/iter_1000``.
        model (paddle.nn.Layer): weights to save.
        optimizer (paddle.optimizer.Optimizer, optional): its state is saved for resuming.
        state (dict, optional): JSON-serialisable training state (iteration, epoch, ...).
    """
    with staging_directory(directory) as staging:
        paddle.save(model.state_dict(), os.path.join(staging, CHECKPOINT_WEIGHTS_FILE))
        if optimizer is not None:
            paddle.save(_rename_optimizer_state(optimizer.state_dict(), _structured_names(model)),
                        os.path.join(staging, CHECKPOINT_OPTIMIZER_FILE))
        if state is not None:
            with open(os.path.join(staging, CHECKPOINT_STATE_FILE), "w") as file:
                json.dump(state, file, indent=2)
        replace_directory(staging, directory)


def load_resume_state(directory):
    """Reads a checkpoint written by :func:`save_checkpoint` with optimizer and state.

    Returns:
        tuple: (model state dict, optimizer state dict, training state dict).

    Raises:
        UsageError: one line naming the file that is missing or unreadable.
    """
    recover_directories(os.path.dirname(os.path.abspath(directory)))
    if not os.path.isdir(directory):
        raise ParameterError("resume_model", directory, "checkpoint directory not found")
    files = (CHECKPOINT_WEIGHTS_FILE, CHECKPOINT_OPTIMIZER_FILE, CHECKPOINT_STATE_FILE)
    missing = [name for name in files if not os.path.isfile(os.path.join(directory, name))]
    if missing:
        raise ParameterError("resume_model", directory,
                             f"incomplete checkpoint, missing {', '.join(missing)}")
    state_path = os.path.join(directory, CHECKPOINT_STATE_FILE)
    model_state = read_state_dict(os.path.join(directory, CHECKPOINT_WEIGHTS_FILE))
    optimizer_state = read_state_dict(os.path.join(directory, CHECKPOINT_OPTIMIZER_FILE))
    try:
        with open(state_path) as file:
            state = json.load(file)
        int(state["iter"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"{state_path}: unreadable training state ({type(error).__name__})") from None
    return model_state, optimizer_state, state


def set_optimizer_state(optimizer, model, state):
    """Loads an optimizer state saved by :func:`save_checkpoint` into ``optimizer`` of ``model``."""
    runtime_names = {structured: name for name, structured in _structured_names(model).items()}
    optimizer.set_state_dict(_rename_optimizer_state(state, runtime_names))


def _structured_names(model):
    """Maps each parameter's runtime name (``conv2d_7.w_0``, numbered per process) to its
    structured name (``backbone.conv1.weight``), which is the same in every process."""
    return {param.name: name for name, param in model.named_parameters()}


def _rename_optimizer_state(state, names):
    """Renames optimizer accumulators (``<param name>_velocity_0``, ...) through ``names``.

    paddle keys accumulators by runtime parameter names, so a state saved in one process would
    silently not apply in a process that created its layers in another order.
    """
    renamed = {}
    for key, value in state.items():
        owner = max((name for name in names if key.startswith(name + "_")), key=len, default=None)
        renamed[names[owner] + key[len(owner):] if owner else key] = value
    return renamed
