"""``pphumanseg val``: mIoU, per-class IoU, accuracy, Kappa, SC and temporal stability."""
from pphumanseg.cli.common_flags import (MODEL_PATH_HELP, add_augmentation_arguments,
                                         add_config_arguments, add_device_argument,
                                         augmentation_from_args)


def add_arguments(parser):
    add_config_arguments(parser)
    parser.add_argument("--model_path", help=MODEL_PATH_HELP)
    parser.add_argument("--num_workers", type=int, default=0, help="data loader processes")
    parser.add_argument("--save_json", help="also write the metrics to this JSON file")
    add_augmentation_arguments(parser)
    add_device_argument(parser)


def run(args):
    from pphumanseg.core.evaluate import evaluate_from_config

    evaluate_from_config(args.config, args.model_path, args.opts,
                         augmentation=augmentation_from_args(args), num_workers=args.num_workers,
                         device=args.device, save_json=args.save_json)
