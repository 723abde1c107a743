"""How commands talk to people and scripts: one JSON document with --json, readable text without."""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from omareview._json import JsonObject

if TYPE_CHECKING:
    from omareview._wire import WireModel

M = TypeVar("M", bound="WireModel")

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")


def emit(data: Any, as_json: bool, human: Callable[[], Iterable[str]]) -> None:
    """Print `data` as JSON, or the lines `human()` yields."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        for line in human():
            click.echo(line)


def emit_many(items: Sequence[JsonObject], as_json: bool, human: Callable[[JsonObject], Iterable[str]]) -> None:
    """One input: one JSON document. Several: JSON Lines, one object per input, in input order."""
    if as_json:
        # Written straight to stdout, buffered: click.echo per line costs more than encoding the line when a
        # command streams tens of thousands of them.
        sys.stdout.write("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items))
        return
    for item in items:
        for line in human(item):
            click.echo(line)


def emit_model(model: M, as_json: bool, human: Callable[[M], Iterable[str]]) -> None:
    """A model as one JSON line, serialized by pydantic-core straight from the model (a stream of results, or a
    large document), or the lines `human(model)` yields."""
    if as_json:
        sys.stdout.write(model.to_json_text() + "\n")
    else:
        for line in human(model):
            click.echo(line)


def when(timestamp: int, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A Unix time as UTC text; a time no calendar can show (a hostile `issuedAt` of 2**255) as its number."""
    try:
        return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime(fmt)
    except (OverflowError, ValueError, OSError):
        return f"{timestamp} (not a representable time)"


def note(message: str) -> None:
    """A progress or status line for the person watching; stderr, so stdout stays clean."""
    click.echo(message, err=True)


def progress(message: str) -> None:
    """A line saying what a long command is doing now, for a person at a terminal: nothing when stderr is
    not one (a script reads the result and the one `error:` line)."""
    if sys.stderr.isatty():
        click.echo(message, err=True)


def fail(message: str) -> None:
    """The one line a failure prints."""
    sys.stdout.flush()
    click.echo(f"error: {message}", err=True)
