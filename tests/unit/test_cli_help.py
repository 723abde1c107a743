"""Every command's `--help`, walked: each answers, and the options the command line promises are the same
everywhere (`--json` on every command with a result, `--log-format` on the long-running ones, the signing
and relayer key options as whole sets)."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from omareview.cli.app import cli

#: Commands that run until stopped: they log instead of printing one result.
LONG_RUNNING = {"serve", "mcp", "index follow"}
#: Each set of options comes whole or not at all.
SETS = ({"--keystore", "--dev-account"}, {"--relayer-keystore", "--relayer-dev-account"})


def _leaves() -> list[tuple[str, click.Command]]:
    ctx = click.Context(cli)
    found: list[tuple[str, click.Command]] = []

    def walk(group: click.Group, path: list[str]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None, name
            if isinstance(command, click.Group):
                walk(command, [*path, name])
            else:
                found.append((" ".join([*path, name]), command))

    walk(cli, [])
    return found


LEAVES = _leaves()


def _options(command: click.Command) -> dict[str, click.Parameter]:
    return {opt: param for param in command.params for opt in param.opts if opt.startswith("--")}


def test_the_walk_finds_every_command() -> None:
    names = {name for name, _ in LEAVES}
    assert {"outbox show", "outbox export", "review submit", "serve", "index follow", "check"} <= names
    assert len(names) == 30, sorted(names)


@pytest.mark.parametrize(("name", "command"), LEAVES, ids=[name for name, _ in LEAVES])
def test_help_answers_and_the_shared_options_hold(name: str, command: click.Command) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: cli {name} ") or result.output.startswith(f"Usage: cli {name}\n")
    assert (command.help or "").strip(), f"{name} has no help text"
    options = _options(command)
    if name in LONG_RUNNING:
        assert "--log-format" in options and "--json" not in options, name
        assert list(options["--log-format"].type.choices) == ["text", "json"]  # type: ignore[attr-defined]
    elif name == "outbox export":
        assert "--json" not in options, "export prints the artifact itself, which is JSON"
    else:
        assert "--json" in options, f"{name} has a result but no --json"
        assert options["--json"].help == "Print one JSON document on stdout."
    for whole in SETS:
        present = whole & set(options)
        assert present in (set(), whole), f"{name} has {sorted(present)} without the rest of {sorted(whole)}"
    for option, param in options.items():
        assert param.help if isinstance(param, click.Option) else True, f"{name} {option} has no help"


def test_every_signing_command_takes_the_same_key_options() -> None:
    signing = {name for name, command in LEAVES if "--keystore" in _options(command)}
    assert {"review submit", "review submit-many", "outbox submit", "outbox review", "respond", "mcp"} <= signing
    relaying = {name for name, command in LEAVES if "--relayer-keystore" in _options(command)}
    assert relaying == {"review submit", "serve"}


@pytest.mark.parametrize("module", ["omareview", "omareview.devnet.server", "omareview.devnet.mcp_server"])
def test_every_python_m_entry_point_answers_help(module: str) -> None:
    done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage" in done.stdout.lower() and len(done.stdout.splitlines()) >= 3


def test_shell_completion_completes_commands() -> None:
    env = {"COMP_WORDS": "omareview out", "COMP_CWORD": "1", "_OMAREVIEW_COMPLETE": "bash_complete"}
    done = subprocess.run(
        [sys.executable, "-m", "omareview"], capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )
    assert done.returncode == 0 and done.stdout.split() == ["plain,outbox"], (done.stdout, done.stderr)
