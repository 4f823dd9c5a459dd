"""``pphumanseg complexity``: params, FLOPs and exported parameter-file size of configs' models."""
import contextlib
import json
import sys

DEFAULT_CONFIGS = "configs"


def add_arguments(parser):
    parser.add_argument("--configs", nargs="+", default=[DEFAULT_CONFIGS], metavar="PATH",
                        help="config files or directories searched for *.yml, skipping _base_ "
                             f"(default: {DEFAULT_CONFIGS})")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of rows instead of a table")


def run(args):
    from pphumanseg.core import complexity

    # paddleseg logs to stdout while building models; keep stdout for the table or the JSON.
    with contextlib.redirect_stdout(sys.stderr):
        rows = [complexity.measure(path) for path in complexity.find_configs(args.configs)]
    if args.json:
        print(json.dumps([row.as_dict() for row in rows], indent=2))
    else:
        print(complexity.format_table(rows))
