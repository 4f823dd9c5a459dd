"""Model complexity of PaddleSeg configs: parameters, FLOPs and exported parameter-file size.

These are the complexity columns of the PP-HumanSeg paper's model comparison (arXiv 2112.07146),
measured for the model each config builds, at the input size of its val transforms (which is
also the exported model's input size).

* ``params`` counts every parameter tensor element, BN running statistics included, as
  ``paddle.flops`` reports ("Total Params"; 137,466 for ConnectNet).
* ``flops`` is ``paddle.flops`` at batch 1 (one multiply-add of a convolution or linear layer
  counts once; layers without a counter, such as pooling and interpolation, count zero).
* ``params_file_bytes`` is the size of ``model.pdiparams`` written by ``paddle.jit.save``.
"""
import contextlib
import copy
import io
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import paddle
from paddleseg.cvlibs import SegBuilder

from pphumanseg.core.config import load_config
from pphumanseg.core.model_files import EXPORTED_PARAMS_FILE
from pphumanseg.utils.errors import UsageError
from pphumanseg.utils.text_table import text_table

BASE_DIR_NAME = "_base_"


@dataclass
class Complexity:
    """One row of the complexity table."""
    config: str
    model: str
    input_width: int
    input_height: int
    params: int
    flops: int
    params_file_bytes: int

    def as_dict(self):
        return asdict(self)


def find_configs(paths):
    """Config files named by ``paths`` (files, or directories searched recursively).

    Shared ``_base_`` fragments are skipped: they do not describe a whole model.

    Raises:
        UsageError: if a path does not exist or nothing is found.
    """
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.yml") if BASE_DIR_NAME not in p.parts)
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"{path}: no such config file or directory")
    if not found:
        raise UsageError(f"no .yml configs found in {', '.join(map(str, paths))}")
    return found


def input_size(config, path):
    """(width, height) of the ``Resize`` in the config's val transforms.

    Raises:
        UsageError: if the val transforms have no ``Resize`` with a ``target_size``.
    """
    transforms = config.val_dataset_cfg.get("transforms", [])
    sizes = [t["target_size"] for t in transforms
             if t.get("type") == "Resize" and "target_size" in t]
    if not sizes:
        raise UsageError(f"{path}: val_dataset.transforms needs a Resize with target_size "
                         f"(the model input size)")
    width, height = sizes[-1]
    return int(width), int(height)


def _without_pretrained(component_cfg):
    """A copy of a model config with every ``pretrained`` field removed, so nothing downloads."""
    if isinstance(component_cfg, dict):
        return {key: _without_pretrained(value) for key, value in component_cfg.items()
                if key != "pretrained"}
    if isinstance(component_cfg, list):
        return [_without_pretrained(item) for item in component_cfg]
    return component_cfg


def build_model(config):
    """The config's model with random weights (``pretrained`` fields are ignored)."""
    model_cfg = _without_pretrained(copy.deepcopy(config.model_cfg))
    return SegBuilder(config).build_component(model_cfg)


def count_params(model):
    return sum(int(p.numel()) for p in model.parameters())


def count_flops(model, width, height):
    # paddle.flops prints one line per layer type; keep stdout clean for the caller.
    with contextlib.redirect_stdout(io.StringIO()):
        return int(paddle.flops(model, [1, 3, height, width], print_detail=False))


def exported_params_bytes(model, width, height):
    """Size of ``model.pdiparams`` written by ``paddle.jit.save`` for a 1x3xHxW input."""
    model.eval()
    spec = [paddle.static.InputSpec([1, 3, height, width], "float32", name="x")]
    static_model = paddle.jit.to_static(model, input_spec=spec, full_graph=True)
    with tempfile.TemporaryDirectory(prefix="pphumanseg_complexity_") as tmp:
        paddle.jit.save(static_model, os.path.join(tmp, "model"))
        return os.path.getsize(os.path.join(tmp, EXPORTED_PARAMS_FILE))


def measure(path):
    """Complexity of the model built by the config at ``path``.

    Raises:
        UsageError: if the config cannot be parsed or has no model input size.
    """
    config = load_config(str(path))
    width, height = input_size(config, path)
    model = build_model(config)
    model.eval()
    return Complexity(
        config=str(path),
        model=config.model_cfg["type"],
        input_width=width,
        input_height=height,
        params=count_params(model),
        flops=count_flops(model, width, height),
        params_file_bytes=exported_params_bytes(model, width, height),
    )


def _human(value, units):
    for factor, suffix in units:
        if value >= factor:
            return f"{value / factor:.2f}{suffix}"
    return str(value)


def format_table(rows):
    """A plain-text table, one row per config."""
    header = ("config", "model", "input WxH", "params", "FLOPs", ".pdiparams")
    return text_table(header, [(
        row.config,
        row.model,
        f"{row.input_width}x{row.input_height}",
        f"{row.params:,} ({_human(row.params, [(1e6, 'M'), (1e3, 'K')])})",
        f"{row.flops:,} ({_human(row.flops, [(1e9, 'G'), (1e6, 'M')])})",
        f"{row.params_file_bytes / 1024:,.1f} KB",
    ) for row in rows])
