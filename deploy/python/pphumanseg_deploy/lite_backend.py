"""Paddle Lite backend (``runtime="lite"``): ``model_x86.nb`` on x86, ``model_arm.nb`` on ARM.

A ``.nb`` optimised for one target crashes the process when loaded on another (segmentation
fault, nothing to catch), so the file's kernel targets are read from its bytes before loading.
The Python ``MobileConfig`` of paddlelite 2.13 offers no thread setting; ``threads`` is applied
when the binding has ``set_threads`` and is otherwise left to the library's default.
"""
import os
import platform
import re

import numpy as np

from .errors import DeployError

NB_FILES = {"x86": "model_x86.nb", "arm": "model_arm.nb"}
# Paddle Lite's TargetType numbers, as stored in each op's kernel_type attribute
# ("op/alias/target/precision/layout"); kHost (1) and kAny (6) run anywhere.
TARGET_IDS = {2: "x86", 4: "arm", 5: "opencl", 9: "xpu", 17: "metal", 18: "nnadapter"}
PORTABLE_TARGET_IDS = {1, 6}
KERNEL_TYPE = re.compile(rb"[A-Za-z0-9_]+/[A-Za-z0-9_]+/(\d+)/\d+/\d+\x00?")


def machine_target():
    """'x86' or 'arm' for the running CPU."""
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64", "i386", "i686", "x86"):
        return "x86"
    if machine.startswith(("arm", "aarch64")):
        return "arm"
    raise DeployError(f"Paddle Lite: no .nb target for this CPU ({machine})")


def nb_targets(path):
    """The set of target names whose kernels the ``.nb`` file at ``path`` uses."""
    with open(path, "rb") as file:
        data = file.read()
    ids = {int(match) for match in KERNEL_TYPE.findall(data)} - PORTABLE_TARGET_IDS
    return {TARGET_IDS.get(target_id, f"target#{target_id}") for target_id in ids}


class LiteBackend:
    """Runs the ``.nb`` for this CPU with paddlelite's light API.

    Args:
        config (DeployConfig): The model directory's deploy.yaml.
        threads (int): Worker threads, where the binding can set them.
        use_gpu (bool): Must be False: the x86 and ARM .nb files run on the CPU.
    """

    def __init__(self, config, threads=1, use_gpu=False):
        if use_gpu:
            raise DeployError("use_gpu: the Paddle Lite runtime here runs on the CPU only")
        target = machine_target()
        path = os.path.join(config.model_dir, NB_FILES[target])
        if not os.path.isfile(path):
            others = [name for name in NB_FILES.values() if os.path.isfile(os.path.join(config.model_dir, name))]
            hint = f"; {', '.join(others)} is for another CPU" if others else " (export with --formats lite)"
            raise DeployError(f"{path}: not found{hint}")
        found = nb_targets(path)
        if found - {target}:
            raise DeployError(
                f"{path}: optimised for {', '.join(sorted(found))}, cannot run on this {target} CPU")
        from paddlelite.lite import MobileConfig, create_paddle_predictor

        settings = MobileConfig()
        settings.set_model_from_file(path)
        if hasattr(settings, "set_threads"):
            settings.set_threads(threads)
        try:
            self.predictor = create_paddle_predictor(settings)
        except Exception as error:  # the binding raises RuntimeError or its own types
            raise DeployError(f"{path}: Paddle Lite cannot load it ({error})") from None

    def run(self, batch):
        self.predictor.get_input(0).from_numpy(batch)
        self.predictor.run()
        # numpy() views the predictor's own buffer, which the next run (or freeing the
        # predictor) overwrites: copy it out.
        return np.array(self.predictor.get_output(0).numpy(), copy=True)
