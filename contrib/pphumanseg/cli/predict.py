"""``pphumanseg predict``: mask, pseudo-colour and overlay images for an image or a folder."""
from pphumanseg.cli.common_flags import (MODEL_PATH_HELP, add_augmentation_arguments,
                                         add_config_arguments, add_device_argument,
                                         augmentation_from_args)


def add_arguments(parser):
    add_config_arguments(parser)
    parser.add_argument("--model_path", help=MODEL_PATH_HELP)
    parser.add_argument("--image_path", required=True, help="an image or a folder of images")
    parser.add_argument("--save_dir", default="output/result",
                        help="receives mask/, pseudo_color/ and overlay/")
    add_augmentation_arguments(parser)
    add_device_argument(parser)


def run(args):
    from pphumanseg.core.predict import predict_from_config

    predict_from_config(args.config, args.model_path, args.image_path, args.save_dir, args.opts,
                        augmentation=augmentation_from_args(args), device=args.device)
