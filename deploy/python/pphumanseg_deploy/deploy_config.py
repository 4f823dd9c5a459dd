"""Reads ``deploy.yaml``, the file every exported model directory carries.

The layout is PaddleSeg's (``Deploy: {model, params, transforms, input_shape?, output_op?}``), so
directories exported by PaddleSeg's own tools (the official PP-HumanSeg inference models) load as
well as those written by ``pphumanseg export``.
"""
import os

import yaml

from .errors import DeployError

# Copies of pphumanseg.core.model_files (this package imports nothing of pphumanseg).
DEPLOY_FILE = "deploy.yaml"
OUTPUT_OPS = ("argmax", "softmax", "foreground", "none")


class DeployConfig:
    """The validated contents of ``<model_dir>/deploy.yaml``.

    Args:
        model_dir (str): Directory holding ``deploy.yaml`` and the files it names.
    """

    def __init__(self, model_dir):
        self.model_dir = model_dir
        self.path = os.path.join(model_dir, DEPLOY_FILE)
        if not os.path.isfile(self.path):
            raise DeployError(f"{self.path}: not found (is --model_dir an exported model directory?)")
        try:
            with open(self.path, encoding="utf-8") as file:
                document = yaml.safe_load(file)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            problem = getattr(error, "problem", None) or "malformed YAML"
            raise DeployError(f"{self.path}{where}: {problem}") from None
        deploy = document.get("Deploy") if isinstance(document, dict) else None
        if not isinstance(deploy, dict):
            raise DeployError(f"{self.path}: missing the top-level 'Deploy' mapping")
        self._deploy = deploy
        self.model_file = self._model_file_field()
        self.params_file = self._file_field("params")
        self.transforms = self._transforms_field()
        self.input_shape = self._input_shape_field()
        self.output_op = self._output_op_field()

    def _field(self, name):
        if name not in self._deploy:
            raise DeployError(f"{self.path}: missing field 'Deploy.{name}'")
        return self._deploy[name]

    def _file_field(self, name):
        value = self._field(name)
        if not isinstance(value, str) or not value:
            raise DeployError(f"{self.path}: field 'Deploy.{name}' must be a file name")
        return os.path.join(self.model_dir, value)

    def _model_file_field(self):
        path = self._file_field("model")
        # paddleseg 2.8 on Paddle 3 names model.pdmodel in deploy.yaml but, with the PIR API on
        # (Paddle 3's default), jit.save writes the graph as model.json.
        pir_path = os.path.splitext(path)[0] + ".json"
        if path.endswith(".pdmodel") and not os.path.isfile(path) and os.path.isfile(pir_path):
            return pir_path
        return path

    def _transforms_field(self):
        transforms = self._field("transforms")
        if not isinstance(transforms, list) or not all(
                isinstance(item, dict) and "type" in item for item in transforms):
            raise DeployError(
                f"{self.path}: field 'Deploy.transforms' must be a list of mappings with a 'type'")
        return transforms

    def _input_shape_field(self):
        shape = self._deploy.get("input_shape")
        if shape is None:
            return None
        if not isinstance(shape, list) or len(shape) != 4:
            raise DeployError(f"{self.path}: field 'Deploy.input_shape' must be [N, C, H, W]")
        # PaddleSeg writes unknown dimensions as null or -1.
        return [dim if isinstance(dim, int) and dim > 0 else None for dim in shape]

    def _output_op_field(self):
        # Older PaddleSeg exports carry no output_op; the predictor then reads the output itself.
        output_op = self._deploy.get("output_op")
        if output_op is not None and output_op not in OUTPUT_OPS:
            raise DeployError(
                f"{self.path}: field 'Deploy.output_op' is {output_op!r}, expected one of {OUTPUT_OPS}")
        return output_op

    @property
    def fixed_input_size(self):
        """(width, height) the exported graph requires, or None when it accepts any size."""
        if self.input_shape is None or None in self.input_shape[2:]:
            return None
        return self.input_shape[3], self.input_shape[2]
