"""ONNX Runtime backend (``runtime="onnx"``): model.onnx written by ``pphumanseg export --formats onnx``."""
import os

from .errors import DeployError

ONNX_FILE = "model.onnx"


class OnnxBackend:
    """Runs ``model.onnx`` with onnxruntime.

    Args:
        config (DeployConfig): The model directory's deploy.yaml.
        threads (int): Intra-op threads.
        use_gpu (bool): Use the CUDA execution provider (needs onnxruntime-gpu).
    """

    def __init__(self, config, threads=1, use_gpu=False):
        import onnxruntime

        path = os.path.join(config.model_dir, ONNX_FILE)
        if not os.path.isfile(path):
            raise DeployError(f"{path}: not found (export with --formats onnx)")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        # ENABLE_ALL adds the NCHWc (blocked layout) transformer that the channel-aligned
        # model.onnx of `pphumanseg export` is made for: ConnectNet 256x144 (foreground) at 1
        # thread runs in ~1.8 ms, against ~5 ms at ENABLE_EXTENDED or BASIC and ~2.0 ms at
        # ENABLE_LAYOUT. Session config entries (denormals as zero, no pre-packing, no spinning)
        # changed it by < 3 % at 1 thread.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        provider = "CUDAExecutionProvider" if use_gpu else "CPUExecutionProvider"
        if provider not in onnxruntime.get_available_providers():
            raise DeployError(f"use_gpu: onnxruntime has no {provider} (install onnxruntime-gpu)")
        try:
            self.session = onnxruntime.InferenceSession(path, options, providers=[provider])
        except Exception as error:  # onnxruntime raises its own, unexported exception types
            raise DeployError(f"{path}: onnxruntime cannot load it ({str(error).strip().splitlines()[0]})") from None
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = self.session.get_outputs()[0].name

    def run(self, batch):
        return self.session.run([self.output_name], {self.input_name: batch})[0]
