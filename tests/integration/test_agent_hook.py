"""The agent hook, the outbox and the submitter: the whole story as a real x402 payment on the devnet."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from x402 import x402Client

from omareview.devnet.node import Devnet
from omareview.eas.client import EasClient
from omareview.eas.rpc import RpcClient
from omareview.errors import ChainError
from omareview.hooks import (
    CapturingTransport,
    ReceiptCapture,
    ReviewDraft,
    Submitter,
    install_hook,
    paying_client,
)
from omareview.identity import DidWebResolver, SafeFetcher
from omareview.index import JudgeContext, ReviewIndex
from omareview.networks import Network
from omareview.review.duplicates import reviewed_receipts
from omareview.review.outbox import Outbox
from omareview.signers import Signer
from omareview.x402 import offer_receipt_extension
from tests.helpers import devnet_payer, devserver_process
from tests.reviews import receipt_for
from tests.servers import Reply, dns_server, http_server

pytestmark = pytest.mark.chain_isolated


@pytest.fixture(params=["eip712", "jws"])
def devserver(request: pytest.FixtureRequest, devnet: Devnet, devnet_home: Path) -> Iterator[str]:
    """The dev x402 server as a real subprocess; yields its base URL (http://localhost:PORT)."""
    with devserver_process(devnet_home, *(["--jws"] if request.param == "jws" else [])) as url:
        yield url


def test_the_whole_story(
    devserver: str, devnet: Devnet, network: Network, dev_signer: Callable[[int], Signer], tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    seen: list[str] = []
    capture = ReceiptCapture(
        outbox,
        rating_policy=lambda response, receipt: ReviewDraft(5, "worth it") if response.status_code == 200 else None,
        on_event=lambda e: seen.append(e.kind),
    )

    async def pay() -> httpx.Response:
        async with paying_client(devnet_payer(x402Client, devnet.state, 1), capture) as http:
            return await http.get(f"{devserver}/paid")

    response = asyncio.run(pay())
    assert response.status_code == 200 and response.json()["data"] == "premium market data"
    assert seen == ["offers", "receipt"]
    (entry,) = outbox.entries()
    assert entry.status == "pending" and entry.offer is not None and entry.draft == ReviewDraft(5, "worth it", (), "")
    assert entry.subject == "did:web:localhost" and entry.payer == devnet.state.accounts[1].address

    port = devserver.rsplit(":", 1)[1]
    resolver = DidWebResolver(fetcher=SafeFetcher(overrides={"localhost": f"http://127.0.0.1:{port}"}))
    from omareview.x402 import VerifyOptions

    submitter = Submitter(
        EasClient(network, dev_signer(1)), dev_signer(1), outbox, verify_options=VerifyOptions(resolver=resolver)
    )
    (report,) = submitter.submit_due()
    assert report.status == "done" and report.uid
    assert outbox.get(entry.digest).status == "done"  # type: ignore[union-attr]
    assert submitter.submit_due() == [], "nothing is due twice"
    with dns_server({}) as dns:
        index = ReviewIndex(network, home=tmp_path, judge_context=JudgeContext(resolver=resolver, dns_server=dns))
        index.sync()
        result = index.reviews(f"{devserver}/paid")
    (review,) = result.reviews
    # The payment is checked on-chain: a real x402 settlement moved the offered TestUSDC to the bound payTo.
    assert (review.uid, review.level, review.rating_value) == (report.uid, "paid", 5)
    assert [p.proof_type for p in review.proofs] == ["x402-receipt", "x402-offer"], "no settlement pointer"
    assert review.evidence is not None
    payment = review.evidence.payment
    assert (payment.status, payment.amount, payment.refunded) == ("paid", "10000", False)
    assert payment.pay_to == devnet.state.accounts[9].address
    assert review.evidence.authorization.status == "authorized"
    assert (result.by_level["paid"], result.average_rating) == (1, 5.0)


def test_a_402_without_payment_only_remembers_offers(devserver: str, tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    events: list[str] = []
    capture = ReceiptCapture(outbox, on_event=lambda e: events.append(f"{e.kind}:{e.detail}"))
    with httpx.Client(transport=CapturingTransport(capture)) as http:
        assert http.get(f"{devserver}/paid").status_code == 402
    assert events == ["offers:1 signed offer(s)"]
    assert outbox.entries() == []


def _settle_header(envelope: dict) -> str:
    settle = {
        "success": True,
        "network": "eip155:31337",
        "transaction": "0x",
        "extensions": offer_receipt_extension(receipt=envelope),
    }
    return base64.b64encode(json.dumps(settle).encode()).decode()


def test_garbage_receipts_never_break_the_request(tmp_path: Path) -> None:
    routes = {
        "/garbage": Reply(body=b'{"ok": 1}', headers={"PAYMENT-RESPONSE": "garbage!!"}),
        "/no-receipt": Reply(body=b"{}", headers={"PAYMENT-RESPONSE": base64.b64encode(b'{"success": true}').decode()}),
    }
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    capture = ReceiptCapture(outbox, rating_policy=lambda response, receipt: 1 / 0)  # type: ignore[arg-type,return-value]
    with http_server(routes) as server:  # type: ignore[arg-type]
        with httpx.Client() as http:
            install_hook(http, capture)
            assert http.get(f"{server.base_url}/garbage").json() == {"ok": 1}
            assert http.get(f"{server.base_url}/no-receipt").status_code == 200

        async def async_call() -> int:
            async with httpx.AsyncClient() as http:
                install_hook(http, capture)
                return (await http.get(f"{server.base_url}/garbage")).status_code

        assert asyncio.run(async_call()) == 200
    rejected = outbox.entries("rejected")
    assert len(rejected) == 2, "the same garbage twice is one entry"
    assert {e.last_error for e in rejected} >= {
        "PAYMENT-RESPONSE from "
        + server.base_url
        + "/garbage is neither JSON, a base64 x402 header value, nor a compact JWS"
    }
    assert any("carries no signed receipt" in (e.last_error or "") for e in rejected)


def test_the_same_receipt_twice_is_one_entry(tmp_path: Path, devnet: Devnet) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    capture = ReceiptCapture(outbox)
    header = _settle_header(receipt_for(devnet.state.accounts[2].address))
    for _ in range(2):
        capture.observe("https://api.example.com/premium-data", 200, {"Payment-Response": header}, None)
    (entry,) = outbox.entries()
    assert entry.status == "pending" and entry.subject == "did:web:api.example.com"


def test_rpc_down_then_the_entry_goes_through(
    tmp_path: Path, devnet: Devnet, network: Network, dev_signer: Callable[[int], Signer]
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    signer = dev_signer(3)
    ReceiptCapture(outbox, rating_policy=lambda r, x: ReviewDraft(4)).observe(
        "https://api.example.com/x", 200, {"PAYMENT-RESPONSE": _settle_header(receipt_for(signer.address))}, None
    )
    offline = Submitter(EasClient(network.model_copy(update={"rpc_url": "http://127.0.0.1:9"}), signer), signer, outbox)
    with pytest.raises(ChainError):
        offline.run(attempts=2, backoff_s=0.01)
    (waiting,) = outbox.entries()
    assert (waiting.status, waiting.attempts) == ("pending", 2) and "cannot reach the node" in (
        waiting.last_error or ""
    )
    (report,) = Submitter(EasClient(network, signer), signer, outbox).run()
    assert report.status == "done"


def test_a_submitter_killed_between_sending_and_recording_writes_one_review(
    cli_env: dict[str, str], network: Network, dev_signer: Callable[[int], Signer]
) -> None:
    home = Path(cli_env["OMAREVIEW_HOME"])
    signer = dev_signer(4)
    outbox = Outbox(home / "outbox.sqlite3")
    ReceiptCapture(outbox, rating_policy=lambda r, x: ReviewDraft(3, "crash test")).observe(
        "https://api.example.com/x", 200, {"PAYMENT-RESPONSE": _settle_header(receipt_for(signer.address, n=77))}, None
    )
    (entry,) = outbox.entries()
    rpc = RpcClient(network.rpc_url)
    command = [sys.executable, "-m", "omareview", "outbox", "submit", "--dev-account", "4", "--no-authorize"]
    env = {**os.environ, "OMAREVIEW_HOME": str(home)}
    rpc.call("evm_setAutomine", [False])
    try:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pending = int(rpc.call("txpool_status")["pending"], 16)
            if pending and outbox.get(entry.digest).status == "submitting":  # type: ignore[union-attr]
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the submitter never sent its transaction")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert outbox.get(entry.digest).status == "submitting"  # type: ignore[union-attr]
    finally:
        rpc.call("evm_setAutomine", [True])
        rpc.call("evm_mine")
    again = subprocess.run([*command, "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["status"], report["error"]) == ("done", "already on-chain")
    assert outbox.get(entry.digest).status == "done"  # type: ignore[union-attr]
    on_chain = reviewed_receipts(EasClient(network), signer.address)
    assert list(on_chain).count(entry.digest) == 1
    assert on_chain[entry.digest] == report["uid"]
    logs_by_attester = rpc.call(
        "eth_getLogs",
        [
            {
                "address": network.eas_address,
                "fromBlock": "0x0",
                "toBlock": "latest",
                "topics": [
                    "0x8bf46bf4cfd674fa735a3d63ec1c9ad4153f033c290341f3a588b75685141b35",
                    None,
                    "0x" + "00" * 12 + signer.address[2:].lower(),
                ],
            }
        ],
    )
    assert len(logs_by_attester) == 1, "exactly one review exists"


def test_the_gate_decides_before_the_x402_client_pays(
    devserver: str, devnet: Devnet, network: Network, tmp_path: Path
) -> None:
    from omareview.gate import Gate, PaymentNotApprovedError
    from omareview.gate.policy import DEFAULT_POLICY
    from omareview.x402 import Eip712Issuer, encode_header, offer_payload

    port = devserver.rsplit(":", 1)[1]
    resolver = DidWebResolver(
        fetcher=SafeFetcher(overrides={"localhost": f"http://127.0.0.1:{port}", "127.0.0.1": "http://127.0.0.1:9"})
    )
    with dns_server({}) as dns:
        gate = Gate(ReviewIndex(network, home=tmp_path), DEFAULT_POLICY, resolver=resolver, dns_server=dns)
        capture = ReceiptCapture(Outbox(tmp_path / "outbox.sqlite3"))

        async def pay(url: str) -> httpx.Response:
            async with paying_client(devnet_payer(x402Client, devnet.state, 2), capture, gate=gate) as http:
                return await http.get(url)

        approved = asyncio.run(pay(f"{devserver}/paid"))
        assert approved.status_code == 200 and approved.headers.get("payment-response")
        decision = gate.last_decision(f"{devserver}/paid")
        assert decision is not None and (decision.action, decision.tier) == ("pay", "authorized-offer")

        accepts = {
            "scheme": "exact",
            "network": "eip155:31337",
            "asset": devnet.state.token_address,
            "payTo": devnet.state.accounts[9].address,
            "amount": "10000",
            "maxTimeoutSeconds": 60,
        }
        offer = Eip712Issuer("0x" + "63" * 32).sign_offer(offer_payload("http://127.0.0.1/x", accepts))
        message = {
            "x402Version": 2,
            "resource": {"url": "http://127.0.0.1/x"},
            "accepts": [accepts],
            "extensions": offer_receipt_extension(offers=[offer]),
        }
        with http_server({"/x": Reply(402, b"{}", headers={"PAYMENT-REQUIRED": encode_header(message)})}) as shady:
            rpc = EasClient(network).rpc
            balance_call = "0x70a08231" + "00" * 12 + devnet.state.accounts[2].address[2:].lower()

            def token_balance() -> int:
                return int(rpc.eth_call(devnet.state.token_address, bytes.fromhex(balance_call[2:])).hex(), 16)

            token_before = token_balance()
            with pytest.raises(PaymentNotApprovedError) as refused:
                asyncio.run(pay(f"{shady.base_url}/x"))
            assert refused.value.decision.action == "ask"
            assert "not approved (ask)" in str(refused.value)
            assert token_balance() == token_before, "nothing was paid"


def test_the_async_submitter(tmp_path: Path, network: Network, dev_signer: Callable[[int], Signer]) -> None:
    from omareview.hooks import AsyncSubmitter

    outbox = Outbox(tmp_path / "outbox.sqlite3")
    signer = dev_signer(7)
    ReceiptCapture(outbox, rating_policy=lambda r, x: ReviewDraft(2, "async")).observe(
        "https://api.example.com/x", 200, {"PAYMENT-RESPONSE": _settle_header(receipt_for(signer.address, n=31))}, None
    )
    (report,) = asyncio.run(AsyncSubmitter(Submitter(EasClient(network, signer), signer, outbox)).run())
    assert report.status == "done" and outbox.get(report.digest).uid == report.uid  # type: ignore[union-attr]
