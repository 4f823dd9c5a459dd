"""pphumanseg_deploy: runtime-only PP-HumanSeg inference and background replacement.

Imports nothing from the training stack (no paddleseg, no pphumanseg): numpy, OpenCV and PyYAML,
plus the one runtime a ``Predictor`` is asked for (paddle.inference, onnxruntime or paddlelite),
imported only when it is constructed.
"""
from .errors import DeployError
from .predictor import Predictor, foreground_probability

__all__ = ["DeployError", "Predictor", "foreground_probability"]
