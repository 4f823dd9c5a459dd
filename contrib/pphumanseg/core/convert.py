"""Conversions of an exported model directory: ONNX (paddle2onnx) and Paddle Lite (paddle_lite_opt).

``convert(save_dir, formats)`` reads ``model.pdmodel`` + ``model.pdiparams`` (Paddle's legacy
program format, which ``pphumanseg export`` writes; paddle_lite_opt 2.13 cannot read PIR
``model.json``) and writes beside them:

- ``model.onnx`` (opset 11, raised by paddle2onnx when an op needs it), from ``model.pdmodel`` or
  from another directory's equivalent graph (``onnx_source``: ``pphumanseg export`` passes a
  channel-aligned one). paddle2onnx's Python-side optimiser (polygraphy) pip-installs packages at
  run time when they are missing, so it is turned off; paddle2onnx's own C++ graph optimisation
  stays on and ONNX Runtime optimises on load.
- ``model_x86.nb`` and ``model_arm.nb`` (naive-buffer models for Paddle Lite's light API). Before
  converting, ``paddle_lite_opt --print_model_ops`` is asked, per target, whether Lite has a kernel
  for every op of the graph; any op it lacks stops the conversion with the op names.

Every file is written under a temporary name and renamed when complete (``atomic_write``).
"""
import os
import shutil
import subprocess
import sys

from pphumanseg.core.model_files import EXPORTED_GRAPH_FILE, EXPORTED_PARAMS_FILE, ONNX_FILE
from pphumanseg.utils.atomic_write import atomic_write
from pphumanseg.utils.errors import UsageError

LITE_TARGETS = ("x86", "arm")
ONNX_OPSET = 11


class ConversionError(UsageError):
    """A model that cannot be converted to a requested format (printed as one line)."""


def convert(save_dir, formats, onnx_source=None):
    """Converts ``save_dir``'s Paddle model to the requested formats.

    Args:
        save_dir (str): An exported model directory (deploy.yaml, model.pdmodel, model.pdiparams).
        formats (Iterable[str]): Any of 'paddle' (already there: listed only), 'onnx', 'lite'.
        onnx_source (str, optional): A directory holding a legacy graph that computes the same
            function as ``save_dir``'s, to convert to ``save_dir/model.onnx`` instead.

    Returns:
        dict[str, list[str]]: format -> paths written (or, for 'paddle', present) in ``save_dir``.
    """
    model_file = os.path.join(save_dir, EXPORTED_GRAPH_FILE)
    params_file = os.path.join(save_dir, EXPORTED_PARAMS_FILE)
    if not os.path.isfile(model_file):
        pir_file = os.path.join(save_dir, "model.json")
        hint = (" (found model.json: re-export with FLAGS_enable_pir_api=0 set before paddle is "
                "imported, as `pphumanseg export` does)") if os.path.isfile(pir_file) else ""
        raise ConversionError(f"{model_file}: not found{hint}")
    if not os.path.isfile(params_file):
        raise ConversionError(f"{params_file}: not found")
    converters = {"paddle": lambda: [model_file, params_file],
                  "onnx": lambda: [to_onnx(save_dir, onnx_source)],
                  "lite": lambda: [to_lite(save_dir, target) for target in LITE_TARGETS]}
    unknown = [fmt for fmt in formats if fmt not in converters]
    if unknown:
        raise ConversionError(f"formats: unknown format {unknown[0]!r}; choose from {', '.join(converters)}")
    return {fmt: converters[fmt]() for fmt in formats}


def to_onnx(save_dir, source_dir=None):
    """Writes ``save_dir/model.onnx`` with paddle2onnx from the legacy graph in ``source_dir``
    (default ``save_dir``) and returns its path."""
    import paddle2onnx

    source_dir = source_dir or save_dir
    for name in (EXPORTED_GRAPH_FILE, EXPORTED_PARAMS_FILE):
        if not os.path.isfile(os.path.join(source_dir, name)):
            raise ConversionError(f"{os.path.join(source_dir, name)}: not found")
    target = os.path.join(save_dir, ONNX_FILE)

    def write(temporary):
        # paddle2onnx logs and swallows its own conversion errors; a missing file is the signal.
        paddle2onnx.export(os.path.join(source_dir, EXPORTED_GRAPH_FILE),
                           os.path.join(source_dir, EXPORTED_PARAMS_FILE), save_file=temporary,
                           opset_version=ONNX_OPSET, auto_upgrade_opset=True,
                           enable_onnx_checker=True, enable_optimize=True, optimize_tool=None)
        if not os.path.isfile(temporary):
            raise ConversionError(f"{source_dir}: paddle2onnx could not convert {EXPORTED_GRAPH_FILE} "
                                  f"(see its log above)")

    atomic_write(target, write)
    return target


def _lite_opt(arguments, check=True):
    """Runs paddle_lite_opt (paddlelite's own command, next to this interpreter) and returns stdout.

    ``check=False`` for ``--print_model_ops``, after which paddle_lite_opt always exits with 1.
    """
    executable = os.path.join(os.path.dirname(sys.executable), "paddle_lite_opt")
    if not os.path.isfile(executable):
        executable = shutil.which("paddle_lite_opt")
    if executable is None:
        raise ConversionError("paddle_lite_opt: not found (install the 'lite' extra: paddlelite)")
    result = subprocess.run([executable, *arguments], capture_output=True, text=True)
    if check and result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise ConversionError(f"paddle_lite_opt failed: {lines[-1] if lines else result.returncode}")
    return result.stdout


def lite_unsupported_ops(save_dir, target):
    """Ops of ``save_dir``'s model that Paddle Lite has no kernel for on ``target`` ('x86'|'arm').

    Parses the table ``paddle_lite_opt --print_model_ops`` prints: one row per op, a ``Y`` under
    each place (target or host) with a kernel for it.
    """
    report = _lite_opt(["--print_model_ops=true", f"--valid_targets={target}",
                        f"--model_file={os.path.join(save_dir, EXPORTED_GRAPH_FILE)}",
                        f"--param_file={os.path.join(save_dir, EXPORTED_PARAMS_FILE)}"], check=False)
    lines = report.splitlines()
    header = next((i for i, line in enumerate(lines) if line.split()[:1] == ["OP_name"]), None)
    if header is None:
        raise ConversionError(f"paddle_lite_opt --print_model_ops printed no op table for {target}")
    unsupported = []
    for line in lines[header + 1:]:
        fields = line.split()
        if not fields or not fields[0].replace("_", "").isalnum():
            break
        if "Y" not in fields[1:]:
            unsupported.append(fields[0])
    return unsupported


def to_lite(save_dir, target):
    """Writes ``model_<target>.nb`` with paddle_lite_opt and returns its path."""
    unsupported = lite_unsupported_ops(save_dir, target)
    if unsupported:
        raise ConversionError(
            f"{save_dir}: Paddle Lite ({target}) has no kernel for op(s) {', '.join(unsupported)}")
    path = os.path.join(save_dir, f"model_{target}.nb")

    def write(temporary):
        _lite_opt([f"--model_file={os.path.join(save_dir, EXPORTED_GRAPH_FILE)}",
                   f"--param_file={os.path.join(save_dir, EXPORTED_PARAMS_FILE)}",
                   f"--valid_targets={target}", "--optimize_out_type=naive_buffer",
                   f"--optimize_out={temporary[:-len('.nb')]}"])  # paddle_lite_opt appends .nb
        if not os.path.isfile(temporary):
            raise ConversionError(f"{save_dir}: paddle_lite_opt wrote no {os.path.basename(path)} "
                                  f"for {target}")

    atomic_write(path, write)
    return path
