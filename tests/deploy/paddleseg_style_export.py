"""Exports paddleseg's own PPHumanSegLite the way PaddleSeg's tools/export.py does.

Run as a script (``python paddleseg_style_export.py SAVE_ROOT OUTPUT_OP [OUTPUT_OP ...]``, one
directory ``SAVE_ROOT/OUTPUT_OP`` each). With
``PPHUMANSEG_TEST_LEGACY=1`` it writes the legacy ``model.pdmodel`` of the official models (the
flag must precede ``import paddle``); without it, what paddleseg 2.8 writes on Paddle 3 by default:
``model.json``, while deploy.yaml still names ``model.pdmodel``. The graph is wrapped with
paddleseg's ``WrappedModel`` (plain softmax or argmax, or none), and deploy.yaml carries the fields
PaddleSeg writes (model, params, transforms, input_shape, output_op, output_dtype), with the
PP-HumanSeg portrait evaluation transforms, so the directory has the layout of the official
PP-HumanSeg inference models.
"""
import os
import sys

if os.environ.get("PPHUMANSEG_TEST_LEGACY") == "1":
    os.environ["FLAGS_enable_pir_api"] = "0"

import paddle  # noqa: E402
import yaml  # noqa: E402
from paddleseg.deploy.export import WrappedModel  # noqa: E402
from paddleseg.models import PPHumanSegLite  # noqa: E402


def export(save_dir, output_op, height=224, width=398):
    """Writes the inference directory (model, params, deploy.yaml) into ``save_dir``."""
    paddle.seed(0)
    model = PPHumanSegLite(num_classes=2)
    # paddleseg's default init (std 0.001) gives near-constant outputs; spread the weights so
    # the exported model has decisive and uncertain pixels alike.
    for parameter in model.parameters():
        if parameter.ndim == 4:
            parameter.set_value(paddle.randn(parameter.shape) * (2.0 / parameter[0].numel()) ** 0.5)
    if output_op != "none":
        model = WrappedModel(model, output_op)
    model.eval()
    shape = [None, 3, None, None]
    static = paddle.jit.to_static(model, input_spec=[paddle.static.InputSpec(shape, "float32")])
    os.makedirs(save_dir, exist_ok=True)
    paddle.jit.save(static, os.path.join(save_dir, "model"))
    transforms = [{"type": "Resize", "target_size": [width, height]},
                  {"type": "Normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}]
    deploy = {"Deploy": {"model": "model.pdmodel", "params": "model.pdiparams",
                         "transforms": transforms, "input_shape": shape, "output_op": output_op,
                         "output_dtype": "int32" if output_op == "argmax" else "float32"}}
    with open(os.path.join(save_dir, "deploy.yaml"), "w") as file:
        yaml.dump(deploy, file)


if __name__ == "__main__":
    for op in sys.argv[2:]:
        export(os.path.join(sys.argv[1], op), op)
