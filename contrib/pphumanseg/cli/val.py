"""``pphumanseg val``: mIoU, per-class IoU, accuracy, Kappa, SC and temporal stability."""


def add_config_arguments(parser):
    parser.add_argument("--config", required=True, help="PaddleSeg-style YAML config")
    parser.add_argument("--opts", nargs="+", metavar="KEY=VALUE",
                        help="config overrides, e.g. batch_size=4 val_dataset.dataset_root=data/x")


def add_device_argument(parser):
    parser.add_argument("--device", choices=("cpu", "gpu"),
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
    from pphumanseg.utils.errors import UsageError

    if args.is_slide and not (args.crop_size and args.stride):
        raise UsageError("--is_slide needs --crop_size W H and --stride W H")
    if not (args.aug_eval or args.is_slide):
        return None
    if args.aug_eval:
        return InferenceAugmentation(args.scales, args.flip_horizontal, args.flip_vertical,
                                    args.is_slide, args.crop_size, args.stride)
    return InferenceAugmentation(is_slide=True, crop_size=args.crop_size, stride=args.stride)


def add_arguments(parser):
    add_config_arguments(parser)
    parser.add_argument("--model_path", required=True, help="model.pdparams to evaluate")
    parser.add_argument("--num_workers", type=int, default=0, help="data loader processes")
    parser.add_argument("--save_json", help="also write the metrics to this JSON file")
    add_augmentation_arguments(parser)
    add_device_argument(parser)


def run(args):
    from pphumanseg.core.evaluate import evaluate_from_config

    evaluate_from_config(args.config, args.model_path, args.opts, augmentation_from_args(args),
                         args.num_workers, args.device, args.save_json)
