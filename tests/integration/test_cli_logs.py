"""`--log-format json` on the long-running commands: every line on stderr is one JSON object (time, level,
logger, message), their own status lines and the access log included; no secret in any of them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from omareview.devnet.node import Devnet
from tests.helpers import answers, free_port

pytestmark = pytest.mark.devnet


def _json_lines(stderr: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    for line in lines:
        assert set(line) >= {"time", "level", "logger", "message"}, line
    return lines


def _stopped(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert not (stdout or "").strip(), "with --log-format json every log line goes to stderr"
    return stderr


def test_index_follow_logs_json_lines(use_devnet: Devnet, cli_env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "omareview", "index", "follow", "--interval", "0.3", "--log-format", "json"]
    proc = subprocess.Popen(command, env={**os.environ, **cli_env}, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    lines = _json_lines(_stopped(proc))
    messages = [line["message"] for line in lines]
    assert any(m.startswith("following devnet from its first block, ") for m in messages), messages
    assert messages[-1] == "stopped"


def test_serve_logs_json_lines_with_the_access_log(use_devnet: Devnet, cli_env: dict[str, str]) -> None:
    port = free_port()
    command = [
        *(sys.executable, "-m", "omareview", "serve", "--port", str(port)),
        *("--relayer-dev-account", "7", "--log-format", "json"),
    ]
    proc = subprocess.Popen(
        command, env={**os.environ, **cli_env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert answers(f"http://127.0.0.1:{port}/healthz")
    finally:
        stderr = _stopped(proc)
    lines = _json_lines(stderr)
    messages = [line["message"] for line in lines]
    assert any(m.startswith(f"serving reviews of devnet on http://127.0.0.1:{port}") for m in messages), messages
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any("GET /healthz" in line["message"] for line in access), messages
    key = use_devnet.state.accounts[7].private_key.get_secret_value()
    assert key[2:] not in stderr
