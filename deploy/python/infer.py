"""Background replacement with an exported PP-HumanSeg model, for users who copy deploy/ alone.

    python deploy/python/infer.py --model_dir MODEL --input IMG|VIDEO|DIR|camera:0 --save OUT
        [--bg IMAGE|VIDEO|#RRGGBB|blur] [--flow] [--post] [--vertical] [--runtime paddle|onnx|lite]

Needs numpy, opencv-python, pyyaml, tqdm and one runtime (paddlepaddle, onnxruntime or paddlelite).
Same options as ``pphumanseg infer``.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pphumanseg_deploy.app import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
