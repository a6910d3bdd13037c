"""Every command's --help as a user reads it: on/off flags show no value type."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from anpr.cli import cli

ANPR = str(Path(sys.executable).with_name("anpr"))


def command_paths(command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path]
    for name, sub in getattr(command, "commands", {}).items():
        paths += command_paths(sub, (*path, name))
    return paths


ALL_COMMANDS = command_paths(typer.main.get_command(cli))


def test_the_walk_finds_the_nested_commands():
    assert {(), ("read",), ("process",), ("challan", "approve"), ("bench", "accuracy")} <= set(ALL_COMMANDS)


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda path: " ".join(path) or "anpr")
def test_flags_show_no_value_type(path):
    result = CliRunner().invoke(cli, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "--help" in result.output
    assert "<bool>" not in result.output
    assert not re.search(r"--help\s+<", result.output)


def test_options_that_take_a_value_keep_their_type():
    """The installed command, as a user runs it: only the flags lost their type."""
    result = subprocess.run(
        [ANPR, "process", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    rows = {
        match[1]: line for line in result.stdout.splitlines() if (match := re.match(r"│[\s*]+(--\S+)", line))
    }
    assert "<path>" in rows["--site"] and "<float>" in rows["--fps"]
    assert "<" not in rows["--json"] and "<" not in rows["--store"] and "<" not in rows["--help"]


def test_the_cli_also_runs_as_a_module():
    """`python -m anpr.cli` is the `anpr` command (no entry point script needed)."""
    result = subprocess.run(
        [sys.executable, "-m", "anpr.cli", "bench", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout
