"""Loading and checking PaddleSeg configs, and building their components with one-line errors.

A config is a PaddleSeg 2.8 YAML file (``_base_`` inheritance, ``type:`` components from
paddleseg or pphumanseg) plus ``key=value`` overrides (``opts``). Everything a user can get wrong in
it (a missing file, a YAML syntax error, a missing section, a misspelt ``type:``, a dataset root
that does not exist) is reported as a :class:`~pphumanseg.utils.errors.UsageError` naming the file and
the field, before any training starts.
"""
import difflib
import os

import paddle
import yaml
from paddleseg.cvlibs import Config, SegBuilder, manager

from pphumanseg.models.weights import load_weights
from pphumanseg.utils.errors import ParameterError, UsageError

# Lower-case optimizer names that paddleseg's SegBuilder maps to its registered classes.
_OPTIMIZER_ALIASES = ("sgd", "adam")
_COMPONENT_MANAGERS = (manager.MODELS, manager.BACKBONES, manager.DATASETS, manager.TRANSFORMS,
                       manager.LOSSES)


def load_config(path, opts=None, required=("model",), **overrides):
    """Reads a config, applies overrides and checks it.

    Args:
        path (str): the YAML file.
        opts (list[str], optional): ``key=value`` overrides, dotted keys reach nested fields.
        required (tuple[str]): top-level sections the command needs, e.g. ``("model", "val_dataset")``.
        **overrides: ``learning_rate``, ``batch_size`` or ``iters`` given on the command line (None = keep).

    Returns:
        paddleseg.cvlibs.Config
    """
    if not os.path.isfile(path):
        raise UsageError(f"{path}: config file not found")
    if not path.endswith((".yml", ".yaml")):
        raise UsageError(f"{path}: a config must be a .yml or .yaml file")
    for item in opts or []:
        if item.count("=") != 1 or not item.split("=")[0]:
            raise ParameterError("opts", repr(item), "expected key=value, e.g. batch_size=4")
    try:
        config = Config(path, opts=opts, **overrides)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        raise UsageError(f"{where}: invalid YAML: {getattr(error, 'problem', error)}") from None
    except OSError as error:
        raise UsageError(f"{error.filename or path}: cannot read config: {error.strerror}") from None
    except (AssertionError, KeyError, TypeError, RuntimeError) as error:
        # paddleseg's config checker raises a multi-line RuntimeError whose last line is the cause.
        raise UsageError(f"{path}: {_one_line(error)}") from None
    if not isinstance(config.dic, dict):
        raise UsageError(f"{path}: the config is not a mapping of sections")
    for section in required:
        if not config.dic.get(section):
            raise UsageError(f"{path}: no '{section}' section")
    check_component_types(config.dic, path)
    return config


def check_component_types(dic, path):
    """Raises UsageError for the first ``type:`` that no registry knows, naming the closest ones."""
    for section, value in dic.items():
        if section == "optimizer" and isinstance(value, dict):
            known = list(manager.OPTIMIZERS.components_dict) + list(_OPTIMIZER_ALIASES)
            _check_type(value, known, section, path)
        elif section == "lr_scheduler" and isinstance(value, dict):
            known = [name for name, obj in vars(paddle.optimizer.lr).items()
                     if isinstance(obj, type) and issubclass(obj, paddle.optimizer.lr.LRScheduler)]
            _check_type(value, known, section, path)
        else:
            known = [name for registry in _COMPONENT_MANAGERS for name in registry.components_dict]
            for field, component in _typed_components(value, section):
                _check_type(component, known, field, path)


def _typed_components(value, field):
    """Yields (dotted field name, dict) for every dict with a ``type`` key inside ``value``."""
    if isinstance(value, dict):
        if "type" in value:
            yield field, value
        for key, item in value.items():
            yield from _typed_components(item, f"{field}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _typed_components(item, f"{field}[{index}]")


def _check_type(component, known, field, path):
    name = component.get("type")
    if name in known:
        return
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UsageError(f"{path}: {field}.type: unknown component {name!r}{hint}")


def check_dataset_root(config, section):
    """Raises UsageError if ``section.dataset_root`` is set and does not exist."""
    root = config.dic.get(section, {}).get("dataset_root")
    if root is not None and not os.path.isdir(root):
        raise UsageError(f"{section}.dataset_root: directory not found: {root}")


def _one_line(error):
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


class ComponentBuilder(SegBuilder):
    """paddleseg's SegBuilder whose failures are one-line UsageErrors.

    Args:
        config (paddleseg.cvlibs.Config): a config from :func:`load_config`.
        config_path (str): the file name used in error messages.
    """

    def __init__(self, config, config_path):
        super().__init__(config)
        self.config_path = config_path

    def build(self, name):
        """Returns the component ``name`` ('model', 'optimizer', 'loss', 'train_dataset', ...);
        'model' is :meth:`build_model` with the config's own weights."""
        if name == "model":
            return self.build_model()
        return self._build(name)

    def build_model(self, weights=None):
        """The config's model with ``weights``, else with ``model.pretrained`` if set.

        Weights of every model class, paddleseg's included, are loaded by
        :func:`pphumanseg.models.weights.load_weights`, so a release checkpoint, a directory, a
        URL or ``zoo:NAME`` works everywhere (paddleseg's own loader knows only files and URLs
        and skips mismatching parameters silently). ``weights`` must match the model exactly;
        ``model.pretrained`` may differ in parameter shapes (fine-tuning to other classes).
        """
        model_fields = self.config.dic["model"]
        pretrained = model_fields.pop("pretrained", None)
        try:
            model = self._build("model")
        finally:
            if pretrained is not None:
                model_fields["pretrained"] = pretrained
        if weights is not None:
            load_weights(model, weights)
        elif pretrained is not None:
            try:
                load_weights(model, pretrained, allow_other_shapes=True)
            except UsageError as error:
                raise UsageError(f"{self.config_path}: model.pretrained: {error}") from None
        return model

    def build_trained_model(self, model_path=None):
        """The model with exactly the weights of ``model_path``, else of ``model.pretrained``
        (for evaluation, prediction and export, where a partly loaded model is an error)."""
        return self.build_model(trained_weights(self.config, self.config_path, model_path))

    def _build(self, name):
        try:
            return getattr(self, name)
        except UsageError:
            raise
        except Exception as error:  # paddleseg wraps every constructor failure in RuntimeError
            raise UsageError(f"{self.config_path}: cannot build {name}: {_one_line(error)}") from None


def trained_weights(config, config_path, model_path=None):
    """``model_path`` if given, else the config's ``model.pretrained``; UsageError if neither."""
    weights = model_path or config.dic["model"].get("pretrained")
    if not weights:
        raise UsageError(f"{config_path}: no weights: give model_path or set model.pretrained")
    return weights
