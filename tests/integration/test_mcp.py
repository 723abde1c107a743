"""`omareview mcp` driven over stdio by the official `mcp` client SDK."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from omareview.devnet.node import Devnet
from omareview.hooks import ReceiptCapture
from omareview.review.outbox import Outbox
from omareview.x402 import offer_receipt_extension
from tests.helpers import devnet_payer
from tests.provider_world import PAYER, World
from tests.reviews import receipt_for

pytestmark = pytest.mark.chain_isolated


def _result(reply: Any) -> dict[str, Any]:
    content: dict[str, Any] | None = reply.structuredContent
    if content:
        return content.get("result", content) if set(content) == {"result"} else content
    return json.loads(reply.content[0].text)


async def _session(env: dict[str, str], *extra: str) -> dict[str, Any]:
    params = StdioServerParameters(command=sys.executable, args=["-m", "omareview", "mcp", *extra], env=env)
    found: dict[str, Any] = {}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        found["tools"] = sorted(tool.name for tool in (await session.list_tools()).tools)
        found["receipts"] = _result(await session.call_tool("list_receipts", {}))
        digest = found["receipts"]["receipts"][0]["digest"]
        found["bad_rating"] = await session.call_tool("draft_review", {"digest": digest, "rating": 9})
        found["draft"] = _result(await session.call_tool("draft_review", {"digest": digest, "rating": 4, "body": "ok"}))
        found["submit"] = await session.call_tool("submit_review", {"digest": digest})
        found["unknown"] = await session.call_tool("draft_review", {"digest": "ffffffff", "rating": 4})
        found["reviews"] = _result(
            await session.call_tool("get_reviews", {"subject_or_url": "https://api.example.com/premium-data"})
        )
        found["check"] = await session.call_tool("check_service", {"url": "http://127.0.0.1:9/paid"})
    return found


def test_an_mcp_client_lists_and_calls_every_tool(use_devnet: Devnet, cli_env: dict[str, str]) -> None:
    home = Path(cli_env["OMAREVIEW_HOME"])
    payer = use_devnet.state.accounts[6].address
    settle = {"success": True, "extensions": offer_receipt_extension(receipt=receipt_for(payer, n=404))}
    ReceiptCapture(Outbox(home / "outbox.sqlite3")).observe_payment("https://api.example.com/premium-data", settle)
    env = {**os.environ, **cli_env}

    found = asyncio.run(_session(env))
    assert found["tools"] == ["check_service", "draft_review", "get_reviews", "list_receipts"], "no submit offered"
    assert found["receipts"]["receipts"][0]["payer"] == payer
    assert found["bad_rating"].isError, "inputs are validated against the tool's JSON Schema"
    assert found["draft"]["drafted"]["draft"]["rating"] == 4
    assert found["submit"].isError, "no submitting without --allow-submit: the tool does not exist"
    refused = found["unknown"]
    assert refused.isError and "outbox-entry: no captured receipts match" in refused.content[0].text
    assert "notice" in found["reviews"] and "untrusted" in found["reviews"]["notice"]
    check = found["check"]
    assert check.isError and "fetch-refused: " in check.content[0].text, "a URL the model chose cannot reach loopback"
    assert "127.0.0.1" in check.content[0].text

    allowed = asyncio.run(_submit(env, found["receipts"]["receipts"][0]["digest"]))
    assert allowed["submitted"][0]["status"] == "done"


async def _submit(env: dict[str, str], digest: str) -> dict[str, Any]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "omareview", "mcp", "--allow-submit", "--dev-account", "6"],
        env=env,
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        return _result(await session.call_tool("submit_review", {"digest": digest}))


async def _pay_mcp_tool(env: dict[str, str], client: Any, capture: Any, gate: Any = None) -> Any:
    from x402.mcp.client_async import create_x402_mcp_client

    from omareview.devnet.mcp_server import TOOL
    from omareview.gate import PaymentNotApprovedError
    from omareview.hooks import McpSessionAdapter, attach

    params = StdioServerParameters(command=sys.executable, args=["-m", "omareview.devnet.mcp_server"], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        paying = attach(create_x402_mcp_client(McpSessionAdapter(session), client), capture, gate)
        try:
            return await paying.call_tool(TOOL, {})
        except PaymentNotApprovedError as refused:  # raised inside the session's task group
            return refused


def test_a_paid_mcp_tool_is_captured_through_the_mcp_clients_hooks(
    use_devnet: Devnet, cli_env: dict[str, str], tmp_path: Path
) -> None:
    from x402 import x402Client

    from omareview.gate import DEFAULT_POLICY, Gate, PaymentNotApprovedError

    def client() -> x402Client:
        return devnet_payer(x402Client, use_devnet.state, 5)

    env = {**os.environ, **cli_env}
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    result = asyncio.run(_pay_mcp_tool(env, client(), ReceiptCapture(outbox)))
    assert result.payment_made and not result.is_error
    (entry,) = outbox.entries()
    assert entry.payer == use_devnet.state.accounts[5].address and entry.subject == "did:web:localhost"
    assert entry.payment_network == "eip155:31337" and (entry.payment_tx or "").startswith("0x")
    assert entry.offer is not None, "the offer came with the payment-required result"

    refusing = DEFAULT_POLICY.model_copy(update={"tiers": [], "otherwise": "refuse"})
    unpaid = Outbox(tmp_path / "o2.sqlite3")
    refused = asyncio.run(_pay_mcp_tool(env, client(), ReceiptCapture(unpaid), Gate(None, refusing)))
    assert isinstance(refused, PaymentNotApprovedError) and refused.decision.action == "refuse"
    assert unpaid.entries() == [], "nothing was paid"


@contextlib.contextmanager
def _sync_mcp_session(env: dict[str, str]) -> Iterator[Any]:
    """A sync `call_tool(params)` over the real `mcp` client session to the paid devnet tool, for the
    package's `x402MCPClientSync` (the Python `mcp` SDK has no sync client): the session lives on an event
    loop in a thread, and each call waits on it."""
    from omareview.hooks import McpSessionAdapter

    loop = asyncio.new_event_loop()
    ready: concurrent.futures.Future[McpSessionAdapter] = concurrent.futures.Future()
    done = asyncio.Event()

    async def hold() -> None:
        params = StdioServerParameters(command=sys.executable, args=["-m", "omareview.devnet.mcp_server"], env=env)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            ready.set_result(McpSessionAdapter(session))
            await done.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(hold(),), daemon=True)
    thread.start()
    adapter = ready.result(timeout=60)

    class SyncSession:
        def call_tool(self, params: dict[str, Any], **_: Any) -> Any:
            return asyncio.run_coroutine_threadsafe(adapter.call_tool(params), loop).result(timeout=120)

    try:
        yield SyncSession()
    finally:
        loop.call_soon_threadsafe(done.set)
        thread.join(30)


def test_the_sync_mcp_client_is_captured_and_gated(use_devnet: Devnet, cli_env: dict[str, str], tmp_path: Path) -> None:
    from x402 import x402ClientSync
    from x402.mcp.client import x402MCPClientSync

    from omareview.devnet.mcp_server import TOOL
    from omareview.gate import DEFAULT_POLICY, Gate
    from omareview.hooks import attach

    def client() -> x402ClientSync:
        return devnet_payer(x402ClientSync, use_devnet.state, 6)

    outbox = Outbox(tmp_path / "outbox.sqlite3")
    with _sync_mcp_session({**os.environ, **cli_env}) as session:
        result = attach(x402MCPClientSync(session, client()), ReceiptCapture(outbox)).call_tool(TOOL, {})
        assert result.payment_made and not result.is_error
        (entry,) = outbox.entries()
        assert entry.payer == use_devnet.state.accounts[6].address and entry.subject == "did:web:localhost"
        assert (entry.payment_tx or "").startswith("0x") and entry.offer is not None

        refusing = DEFAULT_POLICY.model_copy(update={"tiers": [], "otherwise": "refuse"})
        unpaid = Outbox(tmp_path / "o2.sqlite3")
        gated = attach(x402MCPClientSync(session, client()), ReceiptCapture(unpaid), Gate(None, refusing))
        with pytest.raises(Exception, match="omareview gate: refuse"):
            gated.call_tool(TOOL, {})
        assert unpaid.entries() == [], "nothing was paid"


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/paid",
        "http://[::1]:9/paid",
        "http://localhost:9/paid",
        "http://0x7f000001:9/paid",
    ],
)
def test_check_service_never_reaches_an_address_the_model_should_not(url: str, tmp_path: Path) -> None:
    """A prompt-injected model asks `check_service` about loopback, private and metadata addresses: each is
    refused by the address policy before a connection is made (the suite's seal would fail an escape)."""
    from omareview.gate import Gate
    from omareview.identity.fetch import FetchError
    from omareview.mcp.server import ReviewTools

    tools = ReviewTools(Gate(), None, Outbox(tmp_path / "outbox.sqlite3"))
    with pytest.raises(FetchError) as refused:
        tools.check_service(url)
    assert refused.value.reason == "fetch-refused"


def test_the_python_m_entry_points_answer_help_and_say_where_they_serve(
    use_devnet: Devnet, cli_env: dict[str, str]
) -> None:
    import subprocess

    helped = subprocess.run(
        [sys.executable, "-m", "omareview.devnet.mcp_server", "--help"], capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0 and "usage: python -m omareview.devnet.mcp_server" in helped.stdout
    from tests.helpers import answers, free_port

    port = free_port()
    command = [sys.executable, "-m", "omareview.devnet.server", "--port", str(port)]
    server = subprocess.Popen(command, env={**os.environ, **cli_env}, stderr=subprocess.PIPE, text=True)
    try:
        assert answers(f"http://127.0.0.1:{port}/health"), "the dev server did not start"
    finally:
        server.terminate()
        _, said = server.communicate(timeout=15)
    assert f"dev x402 server on http://localhost:{port}" in said, said
    helped = subprocess.run(
        [sys.executable, "-m", "omareview.devnet.server", "--help"], capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0 and "--port" in helped.stdout


async def _pay_through_session(env: dict[str, str], client: Any, capture: Any, *, attach_session: bool) -> Any:
    """Pay the devnet's MCP tool through the x402 package's `x402MCPSession`, attaching either the session (as
    the guide says) or only its x402Client (what an agent might try)."""
    from x402.mcp import x402MCPSession

    from omareview.devnet.mcp_server import TOOL
    from omareview.hooks import attach

    params = StdioServerParameters(command=sys.executable, args=["-m", "omareview.devnet.mcp_server"], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as raw:
        session = x402MCPSession(raw, client)
        await session.initialize()
        if attach_session:
            attach(session, capture)
        else:
            attach(client, capture, receipt_wait_s=0.5)
        result = await session.call_tool(TOOL, {})
        await asyncio.sleep(1.0)  # past the receipt wait
        return result


def test_an_agent_paying_through_x402mcpsession_gets_its_paid_review(
    world: World, cli_env: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from x402 import x402Client

    from omareview.eas.client import EasClient
    from omareview.hooks import ReviewDraft, Submitter
    from omareview.index import JudgeContext, ReviewIndex
    from omareview.x402 import VerifyOptions

    env = {**os.environ, **cli_env}
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    result = asyncio.run(
        _pay_through_session(
            env, devnet_payer(x402Client, world.devnet.state, PAYER), ReceiptCapture(outbox), attach_session=True
        )
    )
    assert result.payment_made and not result.is_error
    (entry,) = outbox.entries()
    payer = world.devnet.state.accounts[PAYER].address
    assert entry.payer == payer and entry.offer is not None and (entry.payment_tx or "").startswith("0x")
    assert "no settlement response reached" not in caplog.text

    outbox.update(entry.digest, draft=ReviewDraft(5, "paid through an MCP session").to_json())
    options = VerifyOptions(resolver=world.resolver(), dns_server=world.dns)
    (report,) = Submitter(
        EasClient(world.network, world.signer(PAYER)), world.signer(PAYER), outbox, verify_options=options
    ).run()
    assert report.status == "done", report.error
    judge = JudgeContext(resolver=world.resolver(), dns_server=world.dns)
    index = ReviewIndex(world.network, home=tmp_path / "index", judge_context=judge)
    index.sync()
    (review,) = index.reviews("did:web:localhost", attester=payer).reviews
    assert (review.uid, review.level) == (report.uid, "paid"), review.reason

    # Attaching only the session's x402Client pays without a receipt: it is said, not silent.
    lost = Outbox(tmp_path / "lost.sqlite3")
    with caplog.at_level("WARNING", logger="omareview.hooks"):
        asyncio.run(
            _pay_through_session(
                env, devnet_payer(x402Client, world.devnet.state, PAYER), ReceiptCapture(lost), attach_session=False
            )
        )
    assert [e.status for e in lost.entries()] == [], "no receipt reached the outbox"
    warned = [r.getMessage() for r in caplog.records if "no settlement response reached the outbox" in r.getMessage()]
    assert len(warned) == 1 and "x402MCPSession: attach the session itself" in warned[0], caplog.text


def test_attach_refuses_what_it_cannot_capture(tmp_path: Path) -> None:
    from omareview.errors import InputError
    from omareview.hooks import attach

    for thing in (object(), ClientSession, {"call_tool": None}):
        with pytest.raises(InputError, match="has no payment hooks to attach to") as refused:
            attach(thing, ReceiptCapture(Outbox(tmp_path / "outbox.sqlite3")))
        assert refused.value.reason == "unsupported-client"
