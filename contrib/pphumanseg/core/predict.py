"""``pphumanseg predict``: class-id mask, pseudo-colour and overlay images for images or folders.

For an input ``a/b.jpg`` (relative to the folder given) it writes ``save_dir/mask/a/b.png``
(class ids, uint8), ``save_dir/pseudo_color/a/b.png`` (palette PNG) and
``save_dir/overlay/a/b.jpg`` (the image blended with the colours). Each file is written to a
temporary name and renamed, so no half-written image is left behind.
"""
import os

import cv2
import numpy as np
import paddle
from paddleseg.transforms import Compose
from paddleseg.utils import logger
from paddleseg.utils.visualize import get_color_map_list, get_pseudo_color_map

from pphumanseg.core.evaluate import InferenceAugmentation
from pphumanseg.utils.atomic_write import atomic_write
from pphumanseg.utils.errors import ParameterError, UsageError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def list_images(path):
    """Returns [(image path, path relative to the input)] for an image file or a folder tree."""
    if os.path.isfile(path):
        return [(path, os.path.basename(path))]
    if not os.path.isdir(path):
        raise ParameterError("image_path", path, "no such file or directory")
    images = []
    for root, _, files in os.walk(path):
        for name in sorted(files):
            if name.lower().endswith(IMAGE_EXTENSIONS):
                full = os.path.join(root, name)
                images.append((full, os.path.relpath(full, path)))
    if not images:
        raise ParameterError("image_path", path, f"no images ({', '.join(IMAGE_EXTENSIONS)}) found")
    return sorted(images, key=lambda item: item[1])


def predict(model, transforms, images, save_dir, augmentation=None, overlay_weight=0.6):
    """Predicts every image and writes its mask, pseudo-colour and overlay images.

    Args:
        model (paddle.nn.Layer): segmentation model with loaded weights.
        transforms (list): the config's val transforms (paddleseg transform objects).
        images (list[tuple[str, str]]): (path, relative output name) from :func:`list_images`.
        save_dir (str): output directory.
        augmentation (InferenceAugmentation, optional): flips/scales/sliding window.
        overlay_weight (float): weight of the image in the overlay (the colours get the rest).

    Returns:
        list[str]: the mask files written.
    """
    augmentation = augmentation or InferenceAugmentation()
    compose = Compose(transforms)
    palette = get_color_map_list(256)
    colours = np.array(palette, np.uint8).reshape(-1, 3)[:, ::-1]  # RGB palette -> BGR for cv2
    model.eval()
    masks = []
    with paddle.no_grad():
        for path, relative in images:
            original = cv2.imread(path, cv2.IMREAD_COLOR)
            if original is None:
                raise UsageError(f"{path}: cannot read image")
            data = compose({"img": original.astype("float32")})
            image = paddle.to_tensor(data["img"][np.newaxis])
            pred = augmentation.predict(model, image, data["trans_info"]).numpy()[0, 0].astype(np.uint8)
            stem = os.path.splitext(relative)[0]
            mask_path = os.path.join(save_dir, "mask", stem + ".png")
            atomic_write(mask_path, lambda tmp: cv2.imwrite(tmp, pred))
            atomic_write(os.path.join(save_dir, "pseudo_color", stem + ".png"),
                   lambda tmp: get_pseudo_color_map(pred, palette).save(tmp, format="PNG"))
            overlay = cv2.addWeighted(original, overlay_weight, colours[pred], 1 - overlay_weight, 0)
            atomic_write(os.path.join(save_dir, "overlay", stem + ".jpg"), lambda tmp: cv2.imwrite(tmp, overlay))
            masks.append(mask_path)
    logger.info(f"Predicted {len(masks)} images; results in {save_dir}")
    return masks


def predict_from_config(config_path, model_path, image_path, save_dir="output/result", opts=None,
                        augmentation=None, device=None):
    """``pphumanseg predict``: loads the checkpoint and predicts ``image_path`` (file or folder)."""
    from pphumanseg.core.config import ComponentBuilder, load_config
    from pphumanseg.core.device import set_device

    set_device(device)
    config = load_config(config_path, opts, required=("model", "val_dataset"))
    images = list_images(image_path)
    builder = ComponentBuilder(config, config_path)
    model = builder.build_trained_model(model_path)
    if augmentation is None:
        augmentation = InferenceAugmentation.from_test_config(config.test_config)
    return predict(model, builder.build("val_transforms"), images, save_dir, augmentation)
