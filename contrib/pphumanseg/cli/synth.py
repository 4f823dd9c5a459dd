"""``pphumanseg synth``: generate teleconference video with exact masks, as a dataset
(``--out DIR``) or as one mp4 clip (``--clip FILE.mp4``)."""
import re

from pphumanseg.utils.errors import UsageError


def parse_size(text):
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match:
        raise UsageError(f"--size must look like 398x224 (WIDTHxHEIGHT), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def add_arguments(parser):
    from pphumanseg.synth import PRESETS

    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="output dataset directory (train.txt, val.txt, test.txt, frames)")
    target.add_argument("--clip", metavar="MP4", help="write one video as an mp4 instead of a dataset")
    parser.add_argument("--videos", type=int, default=12, help="number of videos (at least 3)")
    parser.add_argument("--frames", type=int, default=30, help="frames per video")
    parser.add_argument("--size", default="398x224", help="frame size WIDTHxHEIGHT")
    parser.add_argument("--seed", type=int, default=0, help="random seed; same arguments, same bytes")
    parser.add_argument("--preset", default="default", choices=sorted(PRESETS), help="difficulty")
    parser.add_argument("--split", type=float, nargs=3, default=(0.6, 0.2, 0.2),
                        metavar=("TRAIN", "VAL", "TEST"), help="fractions of videos per split")
    parser.add_argument("--image_format", choices=("jpg", "png"), default="jpg")
    parser.add_argument("--preview", metavar="PNG",
                        help="with --out: also write a contact sheet (frame | mask) of the first 6 videos")
    parser.add_argument("--fps", type=float, default=25.0, help="with --clip: frame rate of the mp4")
    parser.add_argument("--mask_dir", help="with --clip: also write the masks there as 0/1 PNGs")


def run(args):
    from pphumanseg.synth import dataset_preview, write_clip, write_dataset
    from pphumanseg.synth.writer import write_png

    size = parse_size(args.size)
    if args.frames < 1:
        raise UsageError(f"--frames must be at least 1, got {args.frames}")
    try:
        if args.clip:
            write_clip(args.clip, size, args.frames, args.seed, args.preset, args.fps, args.mask_dir)
            print(f"wrote {args.clip}: {args.frames} frames of {args.size}")
            return
        counts = write_dataset(args.out, args.videos, args.frames, size=size, seed=args.seed,
                               preset=args.preset, split=args.split, image_format=args.image_format)
    except (ValueError, OSError) as error:
        raise UsageError(str(error)) from None
    print(f"wrote {args.out}: " + ", ".join(f"{name} {count} frames" for name, count in counts.items()))
    if args.preview:
        write_png(args.preview, dataset_preview(args.videos, args.frames, size, args.seed, args.preset))
        print(f"wrote {args.preview}")
