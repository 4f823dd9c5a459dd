"""``pphumanseg synth``: generate a teleconference video dataset with exact masks."""
import re

from pphumanseg.errors import UsageError


def parse_size(text):
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match:
        raise UsageError(f"--size must look like 398x224 (WIDTHxHEIGHT), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def add_arguments(parser):
    from pphumanseg.synth import PRESETS

    parser.add_argument("--out", required=True, help="output dataset directory")
    parser.add_argument("--videos", type=int, default=12, help="number of videos (at least 3)")
    parser.add_argument("--frames", type=int, default=30, help="frames per video")
    parser.add_argument("--size", default="398x224", help="frame size WIDTHxHEIGHT")
    parser.add_argument("--seed", type=int, default=0, help="random seed; same arguments, same bytes")
    parser.add_argument("--preset", default="default", choices=sorted(PRESETS), help="difficulty")
    parser.add_argument("--split", type=float, nargs=3, default=(0.6, 0.2, 0.2),
                        metavar=("TRAIN", "VAL", "TEST"), help="fractions of videos per split")
    parser.add_argument("--image_format", choices=("jpg", "png"), default="jpg")
    parser.add_argument("--preview", metavar="PNG",
                        help="also write a contact sheet (frame | mask overlay) of the first 6 videos")


def run(args):
    from pphumanseg.synth import dataset_preview, write_dataset
    from pphumanseg.synth.writer import write_png

    size = parse_size(args.size)
    if args.frames < 1:
        raise UsageError(f"--frames must be at least 1, got {args.frames}")
    try:
        counts = write_dataset(args.out, args.videos, args.frames, size=size, seed=args.seed,
                               preset=args.preset, split=args.split, image_format=args.image_format)
    except ValueError as error:
        raise UsageError(str(error)) from None
    print(f"wrote {args.out}: " + ", ".join(f"{name} {count} frames" for name, count in counts.items()))
    if args.preview:
        sheet = dataset_preview(args.videos, args.frames, size, args.seed, args.preset)
        write_png(args.preview, sheet)
        print(f"wrote {args.preview}")
