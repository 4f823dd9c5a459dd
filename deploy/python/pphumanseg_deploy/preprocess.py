"""One pre-processing for every runtime, rebuilt from the ``transforms`` list in deploy.yaml.

It understands the evaluation transforms PaddleSeg exports (``Resize``, ``ResizeByLong``,
``ResizeByShort``, ``Normalize``) with PaddleSeg's meaning: the BGR image is turned into RGB first,
resized, scaled to [0, 1] and normalised with ``(x - mean) / std``. Resizing is done on the uint8
image (as fast as OpenCV gets), which differs from PaddleSeg's float resize by rounding only.
"""
import cv2
import numpy as np

from .errors import DeployError

INTERPOLATIONS = {
    "NEAREST": cv2.INTER_NEAREST,
    "LINEAR": cv2.INTER_LINEAR,
    "CUBIC": cv2.INTER_CUBIC,
    "AREA": cv2.INTER_AREA,
    "LANCZOS4": cv2.INTER_LANCZOS4,
}


def _ceil_to(value, divisor):
    return -(-value // divisor) * divisor


class _Resize:
    def __init__(self, target_size, keep_ratio=False, size_divisor=None, interp="LINEAR"):
        if not isinstance(target_size, (list, tuple)) or len(target_size) != 2:
            raise ValueError("target_size must be [width, height]")
        if interp not in INTERPOLATIONS:
            raise ValueError(f"interp must be one of {sorted(INTERPOLATIONS)}")
        self.target_size = tuple(int(v) for v in target_size)
        self.keep_ratio = keep_ratio
        self.size_divisor = size_divisor
        self.interpolation = INTERPOLATIONS[interp]

    def size_for(self, width, height):
        if self.keep_ratio:
            scale = min(max(self.target_size) / max(width, height),
                        min(self.target_size) / min(width, height))
            size = (round(width * scale), round(height * scale))
        else:
            size = self.target_size
        if self.size_divisor:
            size = tuple(_ceil_to(v, self.size_divisor) for v in size)
        return size


class _ResizeByLong:
    interpolation = cv2.INTER_LINEAR

    def __init__(self, long_size):
        self.long_size = int(long_size)

    def size_for(self, width, height):
        scale = self.long_size / max(width, height)
        return int(round(width * scale)), int(round(height * scale))


class _ResizeByShort:
    interpolation = cv2.INTER_LINEAR

    def __init__(self, short_size, max_size=None):
        self.short_size = int(short_size)
        self.max_size = max_size

    def size_for(self, width, height):
        short_size = self.short_size
        if self.max_size is not None and short_size * max(width, height) / min(width, height) > self.max_size:
            short_size = int(self.max_size / max(width, height) * min(width, height))
        scale = short_size / min(width, height)
        return int(round(width * scale)), int(round(height * scale))


RESIZES = {"Resize": _Resize, "ResizeByLong": _ResizeByLong, "ResizeByShort": _ResizeByShort}


class Preprocess:
    """Turns an HxWx3 uint8 BGR image into the network's 1x3xhxw float32 input.

    Args:
        transforms (list[dict]): The ``Deploy.transforms`` list of deploy.yaml.
        fixed_size (tuple|None): (width, height) the exported graph requires; the image is resized
            to it last when the transforms leave another size.
        source (str): Where ``transforms`` came from, named in error messages.
    """

    def __init__(self, transforms, fixed_size=None, source="deploy.yaml"):
        self.resizes = []
        # (x / 255 - mean) / std as (x - 255 * mean) * scale; without Normalize PaddleSeg feeds
        # the raw 0-255 values.
        self.mean, self.scale = np.zeros(3, np.float32), np.ones(3, np.float32)
        for index, spec in enumerate(transforms):
            options = {key: value for key, value in spec.items() if key != "type"}
            name = spec["type"]
            where = f"{source}: Deploy.transforms[{index}] ({name})"
            try:
                if name in RESIZES:
                    self.resizes.append(RESIZES[name](**options))
                elif name == "Normalize":
                    mean = np.broadcast_to(np.asarray(options.pop("mean", 0.5), np.float32), 3)
                    std = np.broadcast_to(np.asarray(options.pop("std", 0.5), np.float32), 3)
                    if options:
                        raise TypeError(f"unexpected keys {sorted(options)}")
                    if np.any(std == 0):
                        raise ValueError("std must not contain 0")
                    self.mean = (255.0 * mean).astype(np.float32)
                    self.scale = (1.0 / (255.0 * std)).astype(np.float32)
                else:
                    raise DeployError(
                        f"{where}: transform not supported at inference "
                        f"(supported: {sorted(RESIZES) + ['Normalize']})")
            except (TypeError, ValueError) as error:
                raise DeployError(f"{where}: {error}") from None
        self.fixed_size = fixed_size

    def input_size(self, width, height):
        """(width, height) of the network input for an image of the given size."""
        for resize in self.resizes:
            width, height = resize.size_for(width, height)
        return self.fixed_size or (width, height)

    def resize(self, image_bgr):
        """The uint8 image resized as the network sees it (unchanged if already that size)."""
        image = image_bgr
        for resize in self.resizes:
            size = resize.size_for(image.shape[1], image.shape[0])
            if size != (image.shape[1], image.shape[0]):
                image = cv2.resize(image, size, interpolation=resize.interpolation)
        if self.fixed_size and self.fixed_size != (image.shape[1], image.shape[0]):
            image = cv2.resize(image, self.fixed_size, interpolation=cv2.INTER_LINEAR)
        return image

    def __call__(self, image_bgr):
        # blobFromImage swaps to RGB, subtracts the mean (given in RGB order) and lays out NCHW
        # float32 in one pass.
        batch = cv2.dnn.blobFromImage(self.resize(image_bgr), mean=tuple(map(float, self.mean)), swapRB=True)
        batch *= self.scale[:, np.newaxis, np.newaxis]
        return batch
