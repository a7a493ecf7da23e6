"""Docs are tested against the code: every setting and every command is documented."""

from __future__ import annotations

from pathlib import Path

import typer.main

import adref.cli  # noqa: F401  (registers every command)
from adref.cli.app import app
from adref.settings import Settings

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_every_setting_is_in_the_readme() -> None:
    missing = [f"ADREF_{name.upper()}" for name in Settings.model_fields]
    missing = [var for var in missing if var not in README]
    assert not missing, f"settings missing from README.md: {missing}"


def test_every_command_is_in_the_readme() -> None:
    group = typer.main.get_group(app)
    names = []
    for name, command in group.commands.items():
        sub = getattr(command, "commands", None)
        names += [f"adref {name} {s}" for s in sub] if sub else [f"adref {name}"]
    missing = [n for n in names if n not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```", 2)[1]
    assert "make demo" in first_block and "make test" in first_block
