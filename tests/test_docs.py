"""Docs are tested against the code: the settings table states the real defaults, every command is
documented, every command example in the README parses with today's options."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from typer.core import TyperGroup

import adref.cli  # noqa: F401  (registers every command)
from adref.cli.app import app
from adref.settings import Settings

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
TABLE_ROW = re.compile(r"^\| `ADREF_([A-Z0-9_]+)` \| ([^|]*) \|", re.MULTILINE)


def _code_lines() -> list[str]:
    blocks = README.split("```")[1::2]
    return [line.strip() for block in blocks for line in block.splitlines()[1:]]


def _examples() -> list[str]:
    prefixes = (".venv/bin/adref ", "adref ")
    return [line for line in _code_lines() if line.startswith(prefixes)]


def _documented_defaults() -> dict[str, str]:
    return {name.lower(): cell.strip() for name, cell in TABLE_ROW.findall(README)}


def _as_readme_literal(value: Any) -> str | None:
    """How the README writes a default, or None for one it describes in words."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    if isinstance(value, int | float | str):
        return str(value)
    return None


def test_the_settings_table_lists_exactly_the_settings() -> None:
    documented = _documented_defaults()
    assert sorted(documented) == sorted(Settings.model_fields)


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_a_documented_default_is_the_real_default(name: str) -> None:
    cell = _documented_defaults()[name]
    real = Settings.model_fields[name].default
    literal = _as_readme_literal(real)
    if literal is None:
        # No plain default (None, a factory): the README must not claim a literal one, except a
        # path under ADREF_HOME, a home folder or an empty collection, which are described.
        assert not re.fullmatch(r"`[^`/~{}]*`", cell), f"{name}: README says {cell}"
        return
    quoted = re.fullmatch(r"`([^`]*)`", cell)
    if quoted is None:  # a long default (a vendor URL) described in words
        assert len(literal) > 30, f"{name}: README says {cell!r}, the default is {literal!r}"
        return
    shown = quoted.group(1)
    if isinstance(real, float) and not isinstance(real, bool):
        assert float(shown) == real, f"{name}: README says {shown}, the default is {real}"
    else:
        assert shown == literal, f"{name}: README says {shown}, the default is {literal}"


def _commands() -> list[str]:
    group = typer.main.get_group(app)
    names = []
    for name, command in group.commands.items():
        sub = getattr(command, "commands", None)
        names += [f"adref {name} {s}" for s in sub] if sub else [f"adref {name}"]
    return names


def test_every_command_has_a_section_or_an_example() -> None:
    headings = "\n".join(line for line in README.splitlines() if line.startswith("#"))
    shown = headings + "\n" + "\n".join(e.removeprefix(".venv/bin/") for e in _examples())
    missing = [n for n in _commands() if n not in shown and n.rsplit(" ", 1)[1] not in headings]
    assert not missing, f"commands with no README section or example: {missing}"


def _parse(argv: list[str]) -> bool:
    """Parses a command line the way running it would, down to the leaf command, without running
    it; says whether that command does something (a group alone only prints help)."""
    command = typer.main.get_command(app)
    ctx = typer.Context(command, info_name="adref")
    while isinstance(command, TyperGroup) and argv and not argv[0].startswith("-"):
        name, *argv = argv
        sub = command.get_command(ctx, name)
        assert sub is not None, f"no command {name!r}"
        command = sub
        ctx = typer.Context(command, info_name=name, parent=ctx)
    leaf = command.make_context(ctx.info_name, argv, parent=ctx.parent)
    return leaf.command.callback is not None


@pytest.mark.parametrize("example", _examples())
def test_a_readme_example_parses(example: str) -> None:
    line = example.split(" #", 1)[0].split(" > ", 1)[0]
    assert _parse(shlex.split(line)[1:]), f"{example} does not reach a command"


def test_a_wrong_option_does_not_parse() -> None:
    with pytest.raises(typer.TyperException, match="No such option"):
        _parse(["sql", "--no-such-option"])
    with pytest.raises(typer.TyperException, match="requires an argument"):
        _parse(["analyze", "spot.mp4", "--provider"])


def test_readme_starts_with_two_make_targets_that_exist() -> None:
    first_block = README.split("```", 2)[1]
    targets = re.findall(r"^make (\S+)", first_block, re.MULTILINE)
    assert targets == ["demo", "test"]
    makefile = (ROOT / "Makefile").read_text()
    assert all(re.search(rf"^{t}:", makefile, re.MULTILINE) for t in targets)
