"""Paddle Inference backend (``runtime="paddle"``): model.pdmodel or model.json + model.pdiparams.

On CPU it turns oneDNN on for legacy ``.pdmodel`` graphs, the fastest Paddle path measured here.
PIR ``.json`` graphs with bilinear interpolation fail under oneDNN in Paddle 3.3 (which the CPU
build uses unless told not to) and fail to load with memory optimisation, so for them both are off. ``use_gpu=True`` builds a CUDA config (GPU memory pool of 256 MB on device 0); it needs
a paddlepaddle-gpu build and cannot be exercised on the CPU-only machines this was written on.
"""
import os

from .errors import DeployError


class PaddleBackend:
    """Runs an exported graph with ``paddle.inference``.

    Args:
        config (DeployConfig): The model directory's deploy.yaml.
        threads (int): CPU math-library threads.
        use_gpu (bool): Run on GPU 0 instead of the CPU.
        onednn (bool|None): Use oneDNN on CPU; None picks it for ``.pdmodel`` graphs.
    """

    def __init__(self, config, threads=1, use_gpu=False, onednn=None):
        from paddle import inference  # imported here so other runtimes never load paddle

        for path in (config.model_file, config.params_file):
            if not os.path.isfile(path):
                raise DeployError(f"{config.path}: model file {path} not found")
        is_pir = config.model_file.endswith(".json")
        settings = inference.Config(config.model_file, config.params_file)
        settings.disable_glog_info()
        if use_gpu:
            if not _paddle_has_cuda():
                raise DeployError("use_gpu: this paddlepaddle build has no CUDA support")
            settings.enable_use_gpu(256, 0)
        else:
            settings.disable_gpu()
            settings.set_cpu_math_library_num_threads(threads)
            if onednn is None:
                onednn = not is_pir
            if onednn:
                settings.enable_mkldnn()
            else:
                settings.disable_mkldnn()
        settings.switch_ir_optim(True)
        if not is_pir:
            settings.enable_memory_optim()
        try:
            self.predictor = inference.create_predictor(settings)
        except Exception as error:  # Paddle raises several unrelated types for a bad file
            message = str(error).strip().splitlines()
            raise DeployError(
                f"{config.model_file}: Paddle Inference cannot load it ({message[-1] if message else error})"
            ) from None
        self.input = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self.output = self.predictor.get_output_handle(self.predictor.get_output_names()[0])

    def run(self, batch):
        self.input.reshape(batch.shape)
        self.input.copy_from_cpu(batch)
        self.predictor.run()
        return self.output.copy_to_cpu()


def _paddle_has_cuda():
    import paddle

    return paddle.device.is_compiled_with_cuda()
