"""The ``pphumanseg`` command: one subcommand per module in ``pphumanseg.cli``.

Each command module defines ``add_arguments(parser)`` and ``run(args)``; only the module of the
command being run is imported.
"""
import argparse
import importlib
import sys

from pphumanseg.utils.errors import ParameterError, UsageError

COMMANDS = {
    "train": "train a model from a PaddleSeg config",
    "val": "evaluate a model: mIoU, SC, temporal stability",
    "predict": "predict masks for images with a trained model",
    "export": "export a trained model for Paddle Inference, ONNX and Paddle Lite",
    "infer": "background replacement on images, videos or a camera with an exported model",
    "synth": "generate teleconference video frames with exact masks",
    "data": "inspect and validate a dataset in the PP-HumanSeg14K layout",
    "complexity": "params, FLOPs and exported size of every config's model",
    "zoo": "PaddleSeg's released PP-HumanSeg models: list them, fetch one into the cache",
    "serve": "the browser virtual-background page for an exported model, on localhost",
}


def build_parser(command=None):
    parser = argparse.ArgumentParser(
        prog="pphumanseg", description="PP-HumanSeg portrait segmentation for PaddleSeg.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == command:
            importlib.import_module(f"pphumanseg.cli.{name}").add_arguments(sub)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(command)
    args = parser.parse_args(argv)
    module = importlib.import_module(f"pphumanseg.cli.{args.command}")
    try:
        return module.run(args) or 0
    except UsageError as error:
        # The library names its parameters; the command's flags carry the same names.
        flag = isinstance(error, ParameterError) and error.parameter in vars(args)
        parser.exit(2, f"pphumanseg {args.command}: error: {error.as_flag() if flag else error}\n")


if __name__ == "__main__":
    sys.exit(main())
