"""``pphumanseg export``: PaddleSeg's inference layout in Paddle's legacy program format.

``save_dir`` receives ``deploy.yaml`` (``Deploy: model, params, transforms, input_shape,
output_op``; the transforms are the config's val transforms), ``model.pdmodel`` and
``model.pdiparams``, and, with ``formats``, what ``pphumanseg.core.convert`` makes of them
(ONNX, Paddle Lite). Paddle 3 writes the legacy ``.pdmodel`` only when ``FLAGS_enable_pir_api=0``
is in the environment before paddle is imported, so the ``jit.save`` step runs in a subprocess
(``python -m pphumanseg.core.export ARGUMENTS_JSON``). Everything is produced in a staging directory and moved
into ``save_dir`` only when complete.

Output tensors (as in PaddleSeg): ``argmax`` -> int32 [N, H, W]; ``softmax`` -> float32
[N, C, H, W]; ``none`` -> logits; and, for two-class models, ``foreground`` -> float32
[N, 1, H, W], the class-1 probability sigmoid(l1 - l0), which equals softmax's channel 1 and for
ConnectNet is computed at half resolution and resized as one channel (ONNX Runtime, 256x144,
1 thread: 2.1 ms against 3.4 ms for ``softmax``). The softmax subtracts the per-pixel
channel max first so no runtime (Paddle Lite's x86 softmax overflows past logits of ~88) can
produce NaN; the sigmoid cannot overflow.

``model.onnx`` is converted from a graph of its own when the model has ``channel_aligned``
(ConnectNet): the same function with channel counts padded to multiples of
``ONNX_CHANNEL_MULTIPLE``, which ONNX Runtime's blocked (NCHWc) x86 kernels need to stay in
their layout (see ``ConnectNet.channel_aligned``). ``model.pdmodel`` and the Paddle Lite models
keep the trained channel counts (on ARM the padding would be extra work).
"""
import json
import os
import shutil
import subprocess
import sys

import paddle
import yaml

from pphumanseg.core.config import ComponentBuilder, load_config, trained_weights
from pphumanseg.core.export_head import ExportHead
from pphumanseg.core.model_files import (DEPLOY_FILE, EXPORTED_GRAPH_FILE, EXPORTED_PARAMS_FILE,
                                         OUTPUT_OPS)
from pphumanseg.models.weights import resolve_weights
from pphumanseg.utils.atomic_write import staging_directory
from pphumanseg.utils.errors import ParameterError, UsageError
from pphumanseg.utils.paddle3_compat import legacy_graph_ops

FORMATS = ("paddle", "onnx", "lite")
# ONNX Runtime's NCHWc block: 16 channels with AVX-512, 8 with AVX2 (16 serves both).
ONNX_CHANNEL_MULTIPLE = 16
ONNX_GRAPH_DIR = ".onnx_graph"


def parse_formats(text):
    """'paddle,onnx' -> ['paddle', 'onnx']; paddle is always produced since the others derive from it."""
    formats = [item.strip() for item in text.split(",") if item.strip()]
    unknown = [item for item in formats if item not in FORMATS]
    if unknown:
        raise ParameterError("formats", text, f"unknown format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    return ["paddle"] + [item for item in formats if item != "paddle"]


def export(config_path, model_path=None, save_dir="output/inference_model", output_op="softmax", input_shape=None,
           formats=("paddle",), opts=None):
    """Exports a trained model for deployment.

    Args:
        config_path (str): the training config (model and val transforms).
        model_path (str, optional): weights matching the config's model (any source of
            ``pphumanseg.models.weights``); default: the config's ``model.pretrained``.
        save_dir (str): output directory (created or updated in place).
        output_op (str): 'argmax', 'softmax', 'foreground' (two-class models) or 'none'.
        input_shape (list[int], optional): fixed [N, C, H, W]; default [-1, C, -1, -1].
        formats (list[str]): 'paddle' and optionally 'onnx', 'lite' (see pphumanseg.core.convert).
        opts (list[str], optional): config overrides ``key=value``.

    Returns:
        dict: format -> list of files written in ``save_dir``.
    """
    if output_op not in OUTPUT_OPS:
        raise ParameterError("output_op", output_op, f"choose from {', '.join(OUTPUT_OPS)}")
    if input_shape is not None and (len(input_shape) != 4 or any(d == 0 or d < -1 for d in input_shape)):
        raise ParameterError("input_shape", " ".join(map(str, input_shape)), "expected N C H W (-1 = any)")
    if os.path.exists(save_dir) and not os.path.isdir(save_dir):
        raise ParameterError("save_dir", save_dir, "exists and is not a directory")
    config = load_config(config_path, opts, required=("model", "val_dataset"))
    # Fetched here, once, so that the graph-saving subprocess reads a local file.
    model_path = resolve_weights(trained_weights(config, config_path, model_path))
    conversions = [fmt for fmt in formats if fmt != "paddle"]
    with staging_directory(save_dir) as staging:
        onnx_graph = os.path.join(staging, ONNX_GRAPH_DIR) if "onnx" in conversions else None
        shape = _run_jit_save(config_path=config_path, opts=opts, model_path=model_path,
                              out_dir=staging, output_op=output_op, input_shape=input_shape,
                              onnx_dir=onnx_graph)
        deploy = {"Deploy": {"model": EXPORTED_GRAPH_FILE, "params": EXPORTED_PARAMS_FILE,
                             "transforms": config.val_dataset_cfg.get("transforms", []),
                             "input_shape": shape, "output_op": output_op}}
        with open(os.path.join(staging, DEPLOY_FILE), "w") as file:
            yaml.safe_dump(deploy, file, sort_keys=False)
        written = {"paddle": [DEPLOY_FILE, EXPORTED_GRAPH_FILE, EXPORTED_PARAMS_FILE]}
        if conversions:
            from pphumanseg.core.convert import convert

            has_onnx_graph = onnx_graph is not None and os.path.isdir(onnx_graph)
            converted = convert(staging, conversions, onnx_graph if has_onnx_graph else None)
            if has_onnx_graph:
                shutil.rmtree(onnx_graph)
            written.update({fmt: [os.path.relpath(p, staging) for p in paths]
                            for fmt, paths in converted.items()})
        _publish(staging, save_dir)
    return {fmt: [os.path.join(save_dir, name) for name in names] for fmt, names in written.items()}


def _run_jit_save(**arguments):
    """Runs :func:`_jit_save` (legacy format) in a fresh interpreter; returns the input shape used.

    The arguments go in as one JSON argument; a UsageError comes back as a JSON line on stderr.
    """
    command = [sys.executable, "-m", "pphumanseg.core.export", json.dumps(arguments)]
    env = dict(os.environ, FLAGS_enable_pir_api="0")
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode == 2:
        fields = _reported_error(result.stderr)
        if fields is not None:
            raise ParameterError(*fields) if len(fields) == 3 else UsageError(*fields)
    if result.returncode != 0:
        raise RuntimeError(f"export subprocess failed ({result.returncode}):\n{result.stderr[-3000:]}")
    shape_file = os.path.join(arguments["out_dir"], "input_shape.yaml")
    with open(shape_file) as file:
        shape = yaml.safe_load(file)
    os.remove(shape_file)
    return shape


def _reported_error(stderr):
    """The fields of the error the subprocess reported: its last stderr line that is a JSON list
    (Paddle may log after it); None if there is none."""
    for line in reversed(stderr.strip().splitlines()):
        try:
            fields = json.loads(line)
        except ValueError:
            continue
        if isinstance(fields, list):
            return fields
    return None


def _publish(staging, save_dir):
    """Moves the staged files into ``save_dir`` (a rename of the whole directory if it is new).

    Into an existing directory, model files of an earlier export that this one did not produce
    (e.g. a ``model.onnx`` next to a new ``model.pdmodel``) are removed so none is stale.
    """
    if not os.path.exists(save_dir):
        os.rename(staging, save_dir)
        return
    produced = set(os.listdir(staging))
    for name in os.listdir(save_dir):
        if name.startswith("model") and name not in produced:
            os.remove(os.path.join(save_dir, name))
    for name in produced:
        os.replace(os.path.join(staging, name), os.path.join(save_dir, name))


def _jit_save(config_path, opts, model_path, out_dir, output_op, input_shape, onnx_dir=None):
    """The subprocess side: build the model, load and check its weights, save the static graph
    (and, with ``onnx_dir``, the channel-aligned graph for ONNX there, if the model has one)."""
    config = load_config(config_path, opts, required=("model", "val_dataset"))
    model = ComponentBuilder(config, config_path).build_model(model_path)
    model.eval()
    if input_shape is None:
        input_shape = [-1, _model_in_channels(model), -1, -1]
    spec = [paddle.static.InputSpec(shape=input_shape, dtype="float32", name="x")]
    _save_graph(model, output_op, spec, out_dir)
    if onnx_dir is not None and hasattr(model, "channel_aligned"):
        _save_graph(model.channel_aligned(ONNX_CHANNEL_MULTIPLE), output_op, spec, onnx_dir)
    with open(os.path.join(out_dir, "input_shape.yaml"), "w") as file:
        yaml.safe_dump(list(input_shape), file)


def _save_graph(model, output_op, spec, out_dir):
    net = ExportHead(model, output_op)
    net.eval()
    with legacy_graph_ops():
        paddle.jit.save(paddle.jit.to_static(net, input_spec=spec, full_graph=True),
                        os.path.join(out_dir, "model"))
    if not os.path.isfile(os.path.join(out_dir, EXPORTED_GRAPH_FILE)):
        raise RuntimeError("paddle.jit.save did not write model.pdmodel; FLAGS_enable_pir_api=0 "
                           "must be set before paddle is imported")


def _model_in_channels(model):
    """Input channels of the model's first convolution (3 for RGB models)."""
    for layer in model.sublayers():
        if isinstance(layer, paddle.nn.Conv2D):
            return layer._in_channels
    return 3


def main(argv=None):
    try:
        _jit_save(**json.loads((argv or sys.argv[1:])[0]))
    except ParameterError as error:
        print(json.dumps([error.parameter, error.value, error.problem], default=str), file=sys.stderr)
        return 2
    except UsageError as error:
        print(json.dumps([str(error)]), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
