"""Flags that several commands share: the config, the weights, the device and inference
augmentation."""
from pphumanseg.core.device import DEVICES
from pphumanseg.utils.errors import UsageError

MODEL_PATH_HELP = ("weights: a .pdparams (from pphumanseg train or a paddleseg release), a "
                   "checkpoint directory, a URL or zoo:NAME (default: the config's "
                   "model.pretrained)")


def add_config_arguments(parser):
    parser.add_argument("--config", required=True, help="PaddleSeg-style YAML config")
    parser.add_argument("--opts", nargs="+", metavar="KEY=VALUE",
                        help="config overrides, e.g. batch_size=4 val_dataset.dataset_root=data/x")


def add_device_argument(parser):
    parser.add_argument("--device", choices=DEVICES,
                        help="default: gpu when this PaddlePaddle build and machine have one, else cpu")


def add_augmentation_arguments(parser):
    parser.add_argument("--aug_eval", action="store_true", help="average flipped / rescaled predictions")
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0], help="scales with --aug_eval")
    parser.add_argument("--flip_horizontal", action="store_true", help="horizontal flip with --aug_eval")
    parser.add_argument("--flip_vertical", action="store_true", help="vertical flip with --aug_eval")
    parser.add_argument("--is_slide", action="store_true", help="sliding-window inference")
    parser.add_argument("--crop_size", type=int, nargs=2, metavar=("W", "H"), help="window with --is_slide")
    parser.add_argument("--stride", type=int, nargs=2, metavar=("W", "H"), help="step with --is_slide")


def augmentation_from_args(args):
    """An InferenceAugmentation from the flags, or None to use the config's test_config."""
    from pphumanseg.core.evaluate import InferenceAugmentation

    if args.is_slide and not (args.crop_size and args.stride):
        raise UsageError("--is_slide needs --crop_size W H and --stride W H")
    if not (args.aug_eval or args.is_slide):
        return None
    if args.aug_eval:
        return InferenceAugmentation(args.scales, args.flip_horizontal, args.flip_vertical,
                                    args.is_slide, args.crop_size, args.stride)
    return InferenceAugmentation(is_slide=True, crop_size=args.crop_size, stride=args.stride)
