"""``Predictor``: an exported model directory in, a foreground probability per image out."""
import cv2
import numpy as np

from .deploy_config import DeployConfig
from .errors import DeployError
from .preprocess import Preprocess

FOREGROUND_CLASS = 1
RUNTIMES = ("paddle", "onnx", "lite")


def _load_backend(runtime, config, threads, use_gpu, onednn):
    # Each backend module imports its runtime library only when constructed; runtime is checked.
    if runtime == "paddle":
        from .paddle_backend import PaddleBackend

        return PaddleBackend(config, threads=threads, use_gpu=use_gpu, onednn=onednn)
    if onednn is not None:
        raise DeployError(f"onednn: only the paddle runtime uses oneDNN, not {runtime!r}")
    if runtime == "onnx":
        from .onnx_backend import OnnxBackend

        return OnnxBackend(config, threads=threads, use_gpu=use_gpu)
    from .lite_backend import LiteBackend

    return LiteBackend(config, threads=threads, use_gpu=use_gpu)


def _softmax_foreground(logits):
    """Foreground probability of [C, h, w] logits, safe for logits of any magnitude."""
    if logits.shape[0] == 2:
        # softmax over two classes is a sigmoid of the difference; tanh never overflows.
        return 0.5 + 0.5 * np.tanh(0.5 * (logits[1] - logits[0]))
    shifted = np.exp(logits - logits.max(axis=0, keepdims=True))
    return shifted[FOREGROUND_CLASS] / shifted.sum(axis=0)


def _looks_like_probabilities(scores):
    return (scores.min() >= 0.0 and scores.max() <= 1.0
            and np.allclose(scores.sum(axis=0), 1.0, atol=1e-3))


def _one_channel_foreground(values):
    """A single float channel of an export without output_op: class ids (whole numbers) or a
    foreground probability (fractions in [0, 1]); a 0/1 map means the same either way."""
    if np.array_equal(values, np.round(values)):
        return (values == FOREGROUND_CLASS).astype(np.float32)
    if values.min() >= 0.0 and values.max() <= 1.0:
        return np.ascontiguousarray(values, dtype=np.float32)
    raise DeployError(f"model output holds neither class ids nor probabilities (one channel, "
                      f"values {values.min():g} to {values.max():g})")


def foreground_probability(output, output_op=None):
    """The foreground probability map (h, w) float32 of one network output.

    Args:
        output (np.ndarray): The first output for a batch of one: class labels [1, h, w] or
            [1, 1, h, w] (``argmax`` exports), the foreground probability [1, 1, h, w]
            (``foreground`` exports), probabilities or logits [1, C, h, w].
        output_op (str|None): deploy.yaml's ``output_op``; None (older exports) decides from the
            values: integers are labels; one channel of fractions in [0, 1] is a probability
            (0/1 values read the same either way); rows summing to one are probabilities,
            else logits.
    """
    integer = np.issubdtype(output.dtype, np.integer)
    one_channel = output.ndim == 3 or (output.ndim == 4 and output.shape[1] == 1)
    if output_op == "foreground":
        if integer or output.ndim != 4 or output.shape[:2] != (1, 1):
            raise DeployError(f"output_op foreground: expected a float [1, 1, H, W] probability, "
                              f"got {output.dtype} {list(output.shape)}")
        return np.ascontiguousarray(output[0, 0], dtype=np.float32)
    if one_channel and (output_op == "argmax" or integer):
        return (output.reshape(output.shape[-2:]) == FOREGROUND_CLASS).astype(np.float32)
    if one_channel and output_op is None:
        return _one_channel_foreground(output.reshape(output.shape[-2:]))
    if integer or output_op == "argmax" or output.ndim != 4 or output.shape[1] <= FOREGROUND_CLASS:
        expected = "class ids [1, H, W]" if output_op == "argmax" else "scores [1, C>=2, H, W]"
        raise DeployError(f"model output {output.dtype} {list(output.shape)} is not {expected} "
                          f"(output_op {output_op})")
    scores = output[0].astype(np.float32, copy=False)
    if output_op == "softmax" or (output_op is None and _looks_like_probabilities(scores)):
        return np.ascontiguousarray(scores[FOREGROUND_CLASS])
    return _softmax_foreground(scores).astype(np.float32, copy=False)


class Predictor:
    """Foreground (person) probability for BGR images, with one of three runtimes.

    Args:
        model_dir (str): Exported model directory (deploy.yaml plus the model files).
        runtime (str): "paddle" (Paddle Inference), "onnx" (ONNX Runtime, model.onnx) or "lite"
            (Paddle Lite, model_x86.nb / model_arm.nb for the running CPU).
        threads (int): CPU threads for the runtime.
        use_gpu (bool): Run on the GPU (paddle and onnx runtimes).
        onednn (bool|None): Paddle Inference only: use oneDNN on CPU; None decides per graph format.
    """

    def __init__(self, model_dir, runtime="paddle", threads=1, use_gpu=False, onednn=None):
        if runtime not in RUNTIMES:
            raise DeployError(f"runtime: {runtime!r} is not one of {RUNTIMES}")
        if not isinstance(threads, int) or threads < 1:
            raise DeployError(f"threads: must be a positive integer, got {threads!r}")
        self.config = DeployConfig(model_dir)
        self.runtime = runtime
        self.preprocess = Preprocess(self.config.transforms, self.config.fixed_input_size,
                                     source=self.config.path)
        self.backend = _load_backend(runtime, self.config, threads, use_gpu, onednn)

    def run_network(self, batch):
        """The raw first output of the network for a preprocessed 1x3xhxw float32 batch."""
        return self.backend.run(batch)

    def predict_low_res(self, image_bgr):
        """Foreground probability (h, w) float32 at the network's resolution."""
        if not (isinstance(image_bgr, np.ndarray) and image_bgr.dtype == np.uint8
                and image_bgr.ndim == 3 and image_bgr.shape[2] == 3):
            raise DeployError("predict: expected an HxWx3 uint8 BGR image")
        return self.probability(self.preprocess(image_bgr))

    def probability(self, batch):
        """Foreground probability (h, w) float32 of a preprocessed 1x3xhxw float32 batch."""
        return foreground_probability(self.run_network(batch), self.config.output_op)

    def predict(self, image_bgr):
        """Foreground probability (H, W) float32 in [0, 1] at the image's own resolution."""
        probability = self.predict_low_res(image_bgr)
        height, width = image_bgr.shape[:2]
        return upsample(probability, width, height)


def upsample(probability, width, height):
    """Bilinear resize of a probability map to (width, height) (it stays within [0, 1])."""
    if probability.shape != (height, width):
        probability = cv2.resize(probability, (width, height), interpolation=cv2.INTER_LINEAR)
    return probability
