"""Runs ``pphumanseg`` commands inside the test process (no interpreter start-up per call)."""
from pphumanseg.cli.main import main


def run_cli(*argv):
    """Runs ``pphumanseg *argv``; returns its exit status (2 for usage errors)."""
    try:
        return main([str(arg) for arg in argv])
    except SystemExit as exit_:
        return exit_.code
