"""pphumanseg_deploy runs without the training stack: a fresh interpreter that predicts with each
runtime has not imported paddleseg or pphumanseg, and, for ONNX Runtime and Paddle Lite, not paddle."""
import json
import subprocess
import sys

import pytest

SCRIPT = """
import json, sys
import numpy as np
from pphumanseg_deploy import Predictor
import pphumanseg_deploy.app  # the background-replacement app too
probability = Predictor(sys.argv[1], runtime=sys.argv[2]).predict(np.zeros((72, 128, 3), np.uint8))
assert probability.shape == (72, 128)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


@pytest.mark.parametrize("runtime, forbidden", [
    ("onnx", {"paddle", "paddleseg", "pphumanseg", "paddlelite"}),
    ("lite", {"paddle", "paddleseg", "pphumanseg", "onnxruntime"}),
    ("paddle", {"paddleseg", "pphumanseg", "onnxruntime", "paddlelite"}),
])
def test_only_the_chosen_runtime_is_imported(connectnet_exports, runtime, forbidden):
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(connectnet_exports["softmax"]), runtime],
                            capture_output=True, text=True, check=True)
    modules = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert not modules & forbidden
    assert {"paddle": "paddle", "onnx": "onnxruntime", "lite": "paddlelite"}[runtime] in modules
