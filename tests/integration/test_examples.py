"""The examples in examples/ run as written against the devnet and the dev x402 server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from omareview.devnet.node import Devnet
from tests.integration.test_agent_hook import devserver  # noqa: F401  (the dev x402 server fixture)

pytestmark = pytest.mark.chain_isolated
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(script: str, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def example_env(cli_env: dict[str, str], devserver: str) -> dict[str, str]:  # noqa: F811
    port = devserver.rsplit(":", 1)[1]
    return {**os.environ, **cli_env, "OMAREVIEW_DID_WEB_OVERRIDES": f"localhost=http://127.0.0.1:{port}"}


def test_the_requests_agent_pays_and_captures(example_env: dict[str, str], devserver: str, use_devnet: Devnet) -> None:  # noqa: F811
    out = _run("requests_agent.py", f"{devserver}/paid", "2", env=example_env)
    assert out.startswith("200 receipt 0x") and "on eip155:31337" in out


def test_the_sync_httpx_agent_pays_and_captures(example_env: dict[str, str], devserver: str) -> None:  # noqa: F811
    out = _run("sync_httpx_agent.py", f"{devserver}/paid", "3", env=example_env)
    assert out.startswith("200 receipt 0x") and "on eip155:31337" in out


def test_the_gated_async_agent_pays_what_the_gate_approves(example_env: dict[str, str], devserver: str) -> None:  # noqa: F811
    out = _run("async_gated_agent.py", f"{devserver}/paid", "2", env=example_env)
    assert out.strip() == "paid (authorized-offer): 200"


def test_the_mcp_client_example_drives_omareview_mcp(example_env: dict[str, str]) -> None:
    out = _run("mcp_client.py", "https://api.example.com/premium-data", env=example_env)
    assert "tools: check_service, draft_review, get_reviews, list_receipts\n" in out, "no submit without leave"
    assert "review(s), average" in out and "untrusted" in out


def test_the_mcp_paying_agent_captures_its_receipt(example_env: dict[str, str]) -> None:
    out = _run("mcp_paying_agent.py", "4", env=example_env)
    assert out.startswith("paid=True receipt 0x") and "settled in 0x" in out
