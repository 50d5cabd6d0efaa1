"""Every command has help text and is documented in the README; so is every setting."""

from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from advent.cli import main
from advent.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "advent") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


def test_every_command_has_help_and_is_in_the_readme():
    runner = CliRunner()
    commands = _commands(main)
    assert len(commands) >= 10
    for path, command in commands:
        args = path.split()[1:] + ["--help"]
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (path, result.output)
        assert command.help and len(command.help) > 20, f"{path} needs a real help text"
        assert f"`{path}" in README, f"{path} is not documented in the README"


def test_every_setting_is_in_the_readme_and_env_example():
    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    for field in Settings.model_fields.values():
        name = field.validation_alias
        assert f"`{name}`" in README or re.search(rf"`{name}`|{name}`", README), name
        assert name in example, f"{name} missing from .env.example"
