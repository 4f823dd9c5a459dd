"""``pphumanseg data stats|validate --root DIR``: inspect a PP-HumanSeg14K-style dataset."""
import json

from pphumanseg.utils.errors import UsageError


def add_arguments(parser):
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text in (("stats", "videos, frames and foreground ratio per split; split leakage"),
                            ("validate", "check every list line and decode every image and label")):
        action = actions.add_parser(name, help=help_text, description=help_text)
        action.add_argument("--root", required=True, help="dataset root with train.txt/val.txt/test.txt")
        action.add_argument("--foreground_value", type=int, choices=(1, 255), default=1,
                            help="stored label value of person pixels")
        action.add_argument("--ignore_index", type=int, default=255)
        action.add_argument("--video_regex", help="regex with (?P<video>...), optional frame/camera groups")
        if name == "stats":
            action.add_argument("--json", action="store_true", help="print one JSON object")


def run(args):
    from pphumanseg.datasets.report import dataset_statistics, validate_dataset

    options = dict(foreground_value=args.foreground_value, ignore_index=args.ignore_index,
                   video_regex=args.video_regex)
    try:
        if args.action == "validate":
            problems = validate_dataset(args.root, **options)
        else:
            statistics = dataset_statistics(args.root, **options)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.action == "validate":
        for problem in problems:
            print(problem)
        print(f"{args.root}: {len(problems)} problems")
        return 1 if problems else 0
    if args.json:
        print(json.dumps(statistics, sort_keys=True))
    else:
        _print_statistics(statistics)
    return 1 if statistics["leaks"] else 0


def _print_statistics(statistics):
    print(f"{'split':6} {'videos':>7} {'frames':>7} {'labelled':>9} {'foreground':>11}")
    for split, row in statistics["splits"].items():
        ratio = "-" if row["foreground_ratio"] is None else f"{row['foreground_ratio']:.3f}"
        print(f"{split:6} {row['videos']:7d} {row['frames']:7d} {row['labelled_frames']:9d} {ratio:>11}")
    for video, splits in statistics["leaks"].items():
        print(f"LEAK: video {video!r} is in {', '.join(splits)}")
    if statistics["problems"]:
        print(f"{statistics['problems']} lines skipped; run `pphumanseg data validate` for details")
