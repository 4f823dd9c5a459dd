"""The one loader of model weights: the ``model_path`` of evaluation, prediction and export,
``model.pretrained`` of every config and ``ConnectNet(pretrained=...)`` go through
:func:`load_weights` (resuming training reads a whole checkpoint through ``core.checkpoint``,
and checks it with :func:`check_weights_match`).

A weights source is any of
- a ``.pdparams`` file: a checkpoint written by ``pphumanseg train`` or a paddleseg release
  checkpoint of the same model (a model class may rename a release's keys through a
  ``convert_state_dict`` static method, as ConnectNet does for paddleseg's ``PPHumanSegLite``);
- a directory holding ``model.pdparams`` (``output/best_model``, an unpacked release zip);
- ``zoo:NAME``, a released model of :mod:`pphumanseg.zoo`, fetched into its cache on first use;
- an ``http(s)://`` URL of a checkpoint zip or ``.pdparams``, also fetched through the cache.
"""
import logging
import os
from urllib.parse import urlparse

import paddle

from pphumanseg.core.model_files import CHECKPOINT_WEIGHTS_FILE
from pphumanseg.utils.errors import UsageError

logger = logging.getLogger(__name__)

ZOO_PREFIX = "zoo:"


def resolve_weights(source):
    """The local ``.pdparams`` file that ``source`` names (see the module docstring)."""
    from pphumanseg import zoo

    source = str(source)
    if source.startswith(ZOO_PREFIX):
        return os.path.join(zoo.fetch(source[len(ZOO_PREFIX):], "checkpoint"),
                            CHECKPOINT_WEIGHTS_FILE)
    if urlparse(source).scheme in ("http", "https"):
        return os.path.join(zoo.fetch_url(source), CHECKPOINT_WEIGHTS_FILE)
    if os.path.isdir(source):
        path = os.path.join(source, CHECKPOINT_WEIGHTS_FILE)
        if not os.path.isfile(path):
            raise UsageError(f"{source}: directory without {CHECKPOINT_WEIGHTS_FILE}")
        return path
    if not os.path.isfile(source):
        raise UsageError(f"{source}: weights file not found")
    return source


def read_state_dict(path):
    """``paddle.load`` of a state dict, a missing, truncated or foreign file as one UsageError."""
    if not os.path.isfile(path):
        raise UsageError(f"{path}: file not found")
    try:
        state = paddle.load(path)
    except Exception as error:
        raise UsageError(f"{path}: corrupt or not a Paddle state file "
                         f"({type(error).__name__})") from None
    if not isinstance(state, dict):
        raise UsageError(f"{path}: not a Paddle state dict")
    return state


def model_state_dict(model, state):
    """``state`` in ``model``'s parameter names (release checkpoints renamed by the model's class)."""
    convert = getattr(type(model), "convert_state_dict", None)
    return convert(state) if convert is not None else state


def check_weights_match(model, state, source, allow_other_shapes=False):
    """Raises UsageError unless ``state`` has exactly ``model``'s parameter names and shapes.

    The one-line message counts missing, unexpected and differently shaped parameters and names
    the first of each with its shape. With ``allow_other_shapes``, shape differences are allowed.

    Returns:
        list[str]: the names whose shapes differ (empty unless ``allow_other_shapes``).
    """
    expected = {name: list(value.shape) for name, value in model.state_dict().items()}
    given = {name: list(getattr(value, "shape", ())) for name, value in state.items()}
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    other_shapes = sorted(name for name in set(expected) & set(given)
                          if expected[name] != given[name])
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {missing[0]} {expected[missing[0]]})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected "
                        f"(e.g. {unexpected[0]} {given[unexpected[0]]})")
    if other_shapes and not allow_other_shapes:
        name = other_shapes[0]
        problems.append(f"{len(other_shapes)} with other shapes "
                        f"(e.g. {name}: {given[name]} vs model {expected[name]})")
    if problems:
        raise UsageError(f"{source}: does not match {type(model).__name__}: parameters "
                         + ", ".join(problems))
    return other_shapes


def load_weights(model, source, allow_other_shapes=False):
    """Loads the weights that ``source`` names into ``model`` after checking they are its own.

    Args:
        model (paddle.nn.Layer): the model to fill.
        source (str): a weights source (see the module docstring).
        allow_other_shapes (bool): keep the model's initial values, with a warning, for
            parameters whose shape differs (fine-tuning to another number of classes, as
            ``model.pretrained`` does); otherwise any difference is an error.

    Returns:
        paddle.nn.Layer: ``model``.
    """
    path = resolve_weights(source)
    state = model_state_dict(model, read_state_dict(path))
    other_shapes = check_weights_match(model, state, source, allow_other_shapes)
    own = model.state_dict()
    for name in other_shapes:
        logger.warning("%s: %s has shape %s here and %s in the model; kept the model's initial "
                       "values", source, name, list(state[name].shape), list(own[name].shape))
    own.update({name: value for name, value in state.items() if name not in other_shapes})
    model.set_state_dict(own)
    return model
