"""``pphumanseg export``: deploy.yaml + model.pdmodel + model.pdiparams (+ ONNX / Paddle Lite)."""
from pphumanseg.cli.common_flags import MODEL_PATH_HELP, add_config_arguments
from pphumanseg.core.model_files import OUTPUT_OPS


def add_arguments(parser):
    add_config_arguments(parser)
    parser.add_argument("--model_path", help=MODEL_PATH_HELP)
    parser.add_argument("--save_dir", default="output/inference_model")
    parser.add_argument("--output_op", choices=OUTPUT_OPS,
                        default="softmax",
                        help="argmax: int32 [N,H,W]; softmax: float32 [N,C,H,W]; foreground (two "
                             "classes, fastest): float32 [N,1,H,W] probability of class 1; "
                             "none: logits")
    parser.add_argument("--input_shape", type=int, nargs=4, metavar=("N", "C", "H", "W"),
                        help="fixed input shape, e.g. 1 3 224 398 (default: any N, H, W)")
    parser.add_argument("--formats", default="paddle", help="comma-separated: paddle,onnx,lite")


def run(args):
    from pphumanseg.core.export import export, parse_formats

    written = export(args.config, args.model_path, args.save_dir, output_op=args.output_op,
                     input_shape=args.input_shape, formats=parse_formats(args.formats), opts=args.opts)
    for fmt, paths in written.items():
        print(f"{fmt}: {', '.join(paths)}")
