"""Device selection and the data-parallel setup shared by the commands."""
import paddle

from pphumanseg.utils.errors import ParameterError

DEVICES = ("cpu", "gpu")


def set_device(device=None):
    """Selects ``cpu`` or ``gpu`` for paddle, refusing a GPU this build or machine cannot use.

    Args:
        device (str, optional): 'cpu', 'gpu', or None for a GPU when one is usable, else the CPU.

    Returns:
        str: the device selected.
    """
    if device is None:
        usable = paddle.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
        device = "gpu" if usable else "cpu"
    if device == "gpu":
        if not paddle.is_compiled_with_cuda():
            raise ParameterError("device", device, "this PaddlePaddle build has no CUDA support "
                                 f"(paddle {paddle.__version__}); install paddlepaddle-gpu or use cpu")
        if paddle.device.cuda.device_count() == 0:
            raise ParameterError("device", device, "no CUDA device is visible; use cpu")
    paddle.set_device(device)
    return device


def rank_and_process_count():
    """Returns (rank, number of processes) of the current data-parallel job."""
    return paddle.distributed.get_rank(), paddle.distributed.get_world_size()


def make_data_parallel(model, device):
    """Wraps ``model`` for data-parallel training when launched with several processes.

    On GPUs BatchNorm layers become SyncBatchNorm so statistics cover the global batch; on CPU
    (gloo backend) SyncBatchNorm has no kernel and BatchNorm stays per process.

    Returns:
        tuple: (model to call in training, the plain model whose weights are saved).
    """
    if rank_and_process_count()[1] == 1:
        return model, model
    if device == "gpu":
        model = paddle.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    paddle.distributed.init_parallel_env()
    # Some paddleseg models (PPHumanSegLite) own layers that forward never calls.
    return paddle.DataParallel(model, find_unused_parameters=True), model
