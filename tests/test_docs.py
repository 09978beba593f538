"""The README and --help stay true: every command is documented, the public API is sorted."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import thresher
from thresher.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme_and_has_help() -> None:
    for name, command in cli.commands.items():
        assert f"thresher {name}" in README, name
        assert command.help, name
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name


def test_readme_quick_start_has_exactly_the_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick.splitlines() if line.startswith("make ")]
    assert commands == ["make demo", "make test"]


def test_public_api_is_sorted_and_importable() -> None:
    assert thresher.__all__ == sorted(thresher.__all__)
    for name in thresher.__all__:
        assert hasattr(thresher, name), name
