"""``pphumanseg infer``: background replacement with an exported model (pphumanseg_deploy.app)."""
from pphumanseg.utils.errors import UsageError


def add_arguments(parser):
    from pphumanseg_deploy.app import add_arguments as add_app_arguments

    add_app_arguments(parser)


def run(args):
    from pphumanseg_deploy import DeployError
    from pphumanseg_deploy.app import run_from_args

    try:
        run_from_args(args)
    except DeployError as error:
        raise UsageError(str(error)) from None
