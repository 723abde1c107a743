"""The README stays short, and every command, flag and name it shows exists as written."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path

import click

from omareview.cli.app import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def _shell_lines() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command = line.split("#", 1)[0].strip()
            if command.startswith("omareview "):
                lines.append(shlex.split(command)[1:])
    return lines


def test_readme_is_at_most_8_kb() -> None:
    assert len(README.read_bytes()) <= 8 * 1024


def test_every_command_and_flag_in_the_readme_exists() -> None:
    lines = _shell_lines()
    assert len(lines) >= 5
    for words in lines:
        command: click.Command = cli
        ctx = click.Context(cli)
        rest = list(words)
        while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
            sub = command.get_command(ctx, rest[0])
            assert sub is not None, f"README: `omareview {' '.join(words)}`: no command {rest[0]!r}"
            command, rest = sub, rest[1:]
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for word in rest:
            if word.startswith("--"):
                assert word in known, f"README: `omareview {' '.join(words)}`: no option {word}"


def test_python_names_in_the_readme_exist() -> None:
    for module, name in [
        ("omareview.hooks", "ReceiptCapture"),
        ("omareview.hooks", "ReviewDraft"),
        ("omareview.hooks", "paying_client"),
        ("omareview.hooks", "install_hook"),
        ("omareview", "Gate"),
        ("omareview", "Submitter"),
    ]:
        assert hasattr(importlib.import_module(module), name)
    import omareview

    assert callable(omareview.Gate.decide) and callable(omareview.Submitter.run)
