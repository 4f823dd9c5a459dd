"""``pphumanseg zoo``: PaddleSeg's released PP-HumanSeg models, listed and fetched into the cache."""
from pphumanseg.utils.text_table import text_table
from pphumanseg.zoo.catalog import KINDS, RELEASED_MODELS


def add_arguments(parser):
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="the released models as a table")
    get = actions.add_parser(
        "get", help="download (or install --from) a released model into the cache; prints its path")
    get.add_argument("name", help="a name from 'pphumanseg zoo list'")
    get.add_argument("--kind", choices=KINDS, default="checkpoint",
                     help="checkpoint (model.pdparams, for training and export) or inference "
                          "(PaddleSeg's exported model with softmax, for pphumanseg infer)")
    get.add_argument("--from", dest="source", metavar="FILE_OR_DIR",
                     help="install this file (zip, tar or .pdparams) or directory, downloaded "
                          "elsewhere, instead of downloading")


def format_table():
    header = ("name", "task", "input WxH", "params", "mIoU*", "config")
    rows = [(m.name, m.task, f"{m.input_size[0]}x{m.input_size[1]}", f"{m.params:,}",
             f"{m.published_miou:.2f}", f"configs/{m.config}") for m in RELEASED_MODELS.values()]
    return (text_table(header, rows) + "\n* published by PaddleSeg: PP-HumanSeg14K (portrait), "
            "mini Supervisely (general)")


def run(args):
    if args.action == "list":
        print(format_table())
        return
    from pphumanseg import zoo

    if args.source is not None:
        print(zoo.install(args.name, args.kind, args.source))
    else:
        print(zoo.fetch(args.name, args.kind))
