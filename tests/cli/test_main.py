import subprocess
import sys

from pphumanseg.cli.main import COMMANDS


def run_cli(*args):
    return subprocess.run([sys.executable, "-W", "ignore", "-m", "pphumanseg", *args],
                          capture_output=True, text=True)


def test_help_lists_every_subcommand():
    result = run_cli("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout


def test_every_subcommand_has_its_own_help():
    for name in COMMANDS:
        result = run_cli(name, "--help")
        assert result.returncode == 0, (name, result.stderr)
        assert f"pphumanseg {name}" in result.stdout


def test_unknown_subcommand_is_a_usage_error():
    result = run_cli("bogus")
    assert result.returncode == 2
    assert "invalid choice: 'bogus'" in result.stderr
    assert "usage: pphumanseg" in result.stderr


def test_unknown_flag_is_a_usage_error():
    result = run_cli("synth", "--out", "unused", "--no-such-flag")
    assert result.returncode == 2
    assert "--no-such-flag" in result.stderr
