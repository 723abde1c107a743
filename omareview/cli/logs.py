"""How the long-running commands (`serve`, `mcp`, `index follow`) log: readable lines, or one JSON object per
line for a log collector (`--log-format json`)."""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable
from typing import Literal

import click

from omareview.cli.output import note

__all__ = ["LOG_FORMAT_OPTION", "JsonLogFormatter", "LogFormat", "configure_logging"]

LogFormat = Literal["text", "json"]

LOG_FORMAT_OPTION = click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines on stderr as text, or as one JSON object each (time, level, logger, message).",
)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record. An exception is named by its class only: its text or traceback could carry
    a credentialed URL or an upstream body."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, str] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            document["error"] = record.exc_info[0].__name__
        return json.dumps(document, ensure_ascii=False)


def configure_logging(log_format: LogFormat) -> Callable[[str], None]:
    """Route every logger (the library's, uvicorn's, the MCP SDK's) to stderr in `log_format`; returns how the
    command prints its own status lines, so they come out in the same format."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if log_format == "text":
        return note
    status = logging.getLogger("omareview.cli")
    return status.info
