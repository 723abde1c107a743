"""Every way a Python agent pays, captured through the x402 package's own hooks: the sync client under the
package's requests adapter, a plain requests session, and A2A metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from eth_account import Account
from x402 import x402ClientSync

from omareview.devnet.node import Devnet
from omareview.errors import InputError
from omareview.gate import DEFAULT_POLICY, Gate
from omareview.hooks import ReceiptCapture, ReviewDraft, attach, install_hook, paying_client, paying_session
from omareview.review.outbox import Outbox
from omareview.x402 import load_artifacts
from tests.helpers import devnet_payer
from tests.integration.test_agent_hook import devserver  # noqa: F401  (the dev x402 server fixture)

pytestmark = pytest.mark.chain_isolated


def test_a_requests_agent_on_the_sync_client_captures_its_receipt_and_settlement(
    devserver: str,  # noqa: F811
    devnet: Devnet,
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    capture = ReceiptCapture(outbox, rating_policy=lambda response, receipt: ReviewDraft(4, "sync"))
    with paying_session(devnet_payer(x402ClientSync, devnet.state, 3), capture) as session:
        response = session.get(f"{devserver}/paid")
    assert response.status_code == 200
    (entry,) = outbox.entries()
    assert entry.status == "pending" and entry.payer == devnet.state.accounts[3].address
    assert entry.payment_network == "eip155:31337" and entry.payment_tx and entry.payment_tx.startswith("0x")
    assert entry.offer is not None, "the 402's signed offer was seen through the hook as well"


def test_the_gate_aborts_an_unapproved_payment_on_the_sync_client(
    devserver: str,  # noqa: F811
    devnet: Devnet,
    tmp_path: Path,
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    refusing = DEFAULT_POLICY.model_copy(update={"tiers": [], "otherwise": "refuse"})
    session = paying_session(
        devnet_payer(x402ClientSync, devnet.state, 3), ReceiptCapture(outbox), gate=Gate(None, refusing)
    )
    with session, pytest.raises(Exception, match="omareview gate: refuse"):
        session.get(f"{devserver}/paid")
    assert outbox.entries() == [], "nothing was paid"


def test_a_plain_requests_session_captures_through_install_hook(devserver: str, tmp_path: Path) -> None:  # noqa: F811
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    events: list[str] = []
    capture = ReceiptCapture(outbox, on_event=lambda e: events.append(e.kind))
    with install_hook(requests.Session(), capture) as session:
        assert session.get(f"{devserver}/paid").status_code == 402
    assert events == ["offers"]


def test_clients_that_cannot_be_hooked_are_one_clear_error(devnet: Devnet) -> None:
    with pytest.raises(InputError, match="object has no payment hooks to attach to"):
        attach(object(), ReceiptCapture())
    with pytest.raises(InputError, match="is not an httpx client, a requests session or an x402 client"):
        install_hook(object(), ReceiptCapture())
    with pytest.raises(InputError, match="pay through requests with omareview.hooks.paying_session"):
        paying_client(devnet_payer(x402ClientSync, devnet.state, 3), ReceiptCapture())


def test_the_gate_on_the_async_client_decides_off_the_event_loop(
    devserver: str,  # noqa: F811
    devnet: Devnet,
    tmp_path: Path,
) -> None:
    import asyncio

    import httpx
    from x402 import x402Client
    from x402.http.clients.httpx import x402HttpxClient

    from omareview._devnet_state import network_of
    from omareview.identity import DidWebResolver, SafeFetcher
    from omareview.index import ReviewIndex
    from tests.servers import Reply, dns_server, http_server

    port = devserver.rsplit(":", 1)[1]
    document = httpx.get(f"http://127.0.0.1:{port}/.well-known/did.json").content
    client = devnet_payer(x402Client, devnet.state, 4)
    outbox = Outbox(tmp_path / "outbox.sqlite3")

    async def agent() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        gaps: list[float] = []

        async def tick() -> None:
            last = loop.time()
            while True:
                await asyncio.sleep(0.01)
                gaps.append(loop.time() - last)
                last = loop.time()

        ticker = asyncio.create_task(tick())
        async with x402HttpxClient(client) as http:
            response = await http.get(f"{devserver}/paid")
        ticker.cancel()
        return response.status_code, max(gaps)

    # The service's did.json answers only after 0.6 s: a gate deciding on the loop would stall it that long.
    slow = Reply(body=document, delay_s=0.6)
    with http_server({"/.well-known/did.json": slow}) as server, dns_server({}) as dns:
        resolver = DidWebResolver(fetcher=SafeFetcher(overrides={"localhost": server.base_url}))
        index = ReviewIndex(network_of(devnet.state), home=tmp_path)
        gate = Gate(index, DEFAULT_POLICY, resolver=resolver, dns_server=dns)
        attach(client, ReceiptCapture(outbox), gate=gate)
        status, worst_gap = asyncio.run(agent())
    decision = gate.last_decision(f"{devserver}/paid")
    assert status == 200 and decision is not None and decision.action == "pay"
    assert worst_gap < 0.4, f"the event loop stalled {worst_gap:.2f} s while the gate decided"
    (entry,) = outbox.entries()
    assert entry.payer == devnet.state.accounts[4].address and entry.offer is not None


def test_a2a_metadata_carries_loadable_offers_and_receipts() -> None:
    from tests.vectors import OFFER, OFFER_SIG, RECEIPT, RECEIPT_SIG

    offer = {"format": "eip712", "payload": OFFER, "signature": OFFER_SIG}
    receipt = {"format": "eip712", "payload": RECEIPT, "signature": RECEIPT_SIG}
    task = {
        "id": "task-1",
        "metadata": {
            "x402.payment.status": "payment-completed",
            "x402.payment.required": {
                "x402Version": 2,
                "accepts": [],
                "extensions": {"offer-receipt": {"info": {"offers": [offer]}}},
            },
            "x402.payment.receipts": [
                {
                    "success": True,
                    "network": "eip155:8453",
                    "transaction": "0x" + "12" * 32,
                    "extensions": {"offer-receipt": {"info": {"receipt": receipt}}},
                },
            ],
        },
    }
    loaded = load_artifacts(json.dumps(task))
    assert [a.kind for a in loaded] == ["offer", "receipt"]
    assert loaded[1].settlement == ("eip155:8453", "0x" + "12" * 32)


class KmsLike:
    """An external signer: an address and a function that signs digests (as a hardware wallet or KMS does)."""

    def __init__(self, key: str) -> None:
        import coincurve

        self._key = coincurve.PrivateKey(bytes.fromhex(key.removeprefix("0x")))
        self.address = Account.from_key(key).address

    def sign_hash(self, message_digest: bytes) -> tuple[int, bytes, bytes]:
        signature = self._key.sign_recoverable(message_digest, hasher=None)
        return signature[64] + 27, signature[:32], signature[32:64]


@pytest.mark.parametrize("kind", ["local-account", "external"])
def test_signers_users_already_have_write_reviews_eas_sdk_reads(devnet: Devnet, kind: str) -> None:
    from omareview._devnet_state import network_of
    from omareview.eas.client import EasClient, review_request
    from omareview.review import review_of_subject
    from omareview.schemas import get_schema
    from tests.helpers import run_node

    key = devnet.state.accounts[4].private_key.get_secret_value()
    signer = Account.from_key(key) if kind == "local-account" else KmsLike(key)
    network = network_of(devnet.state)
    review = review_of_subject("did:web:signers.example", rating=3, body=kind)
    client = EasClient(network, signer)
    submitted = client.attest(review_request(review.recipient, review.encode()))
    assert submitted.attester == devnet.state.accounts[4].address
    delegated = client.sign_delegated(review_request(review.recipient, review.encode()), signer)
    assert client.submit_delegated(delegated).attester == devnet.state.accounts[4].address
    (onchain,) = client.attestations([submitted.uid])
    schema = get_schema("user-review").schema_string
    decoded = run_node("eas_reference.mjs", {"action": "decode", "schema": schema, "data": "0x" + onchain.data.hex()})
    assert {item["name"]: item["value"] for item in decoded}["reviewBody"] == kind
    with pytest.raises(InputError, match="cannot sign"):
        EasClient(network, object())


def test_async_gate_index_and_client_never_block_the_event_loop(devnet: Devnet, tmp_path: Path) -> None:
    import asyncio

    from omareview._devnet_state import network_of
    from omareview.eas.client import AsyncEasClient, EasClient, review_request
    from omareview.gate import AsyncGate
    from omareview.identity import DidWebResolver, SafeFetcher
    from omareview.index import AsyncReviewIndex, JudgeContext, ReviewIndex
    from omareview.review import review_of_subject
    from omareview.x402 import DidKey, did_document, encode_header, offer_payload, offer_receipt_extension
    from tests.reviews import SERVER
    from tests.servers import Reply, dns_server, http_server

    resource = "https://slow.example/paid"
    requirements = {
        "scheme": "exact",
        "network": "eip155:8453",
        "asset": "0x" + "11" * 20,
        "payTo": "0x" + "22" * 20,
        "amount": "5",
    }
    offer = SERVER.sign_offer(offer_payload(resource, requirements))
    required = {
        "x402Version": 2,
        "resource": {"url": resource},
        "accepts": [requirements],
        "extensions": offer_receipt_extension(offers=[offer]),
    }
    document = did_document("did:web:slow.example", [DidKey("signer", address=SERVER.address)])
    slow = Reply(body=json.dumps(document).encode(), delay_s=0.6)

    async def agent(resolver: DidWebResolver, dns: str) -> tuple[int, str, str]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        gate = AsyncGate(Gate(None, DEFAULT_POLICY, resolver=resolver, dns_server=dns))
        decision = await gate.decide(resource, 402, {"PAYMENT-REQUIRED": encode_header(required)}, None)
        network = network_of(devnet.state)
        key = devnet.state.accounts[5].private_key.get_secret_value()
        review = review_of_subject("did:web:slow.example", rating=4)
        submitted = await AsyncEasClient(EasClient(network, key)).attest(
            review_request(review.recipient, review.encode())
        )
        index = AsyncReviewIndex(ReviewIndex(network, home=tmp_path, judge_context=JudgeContext(authorize=False)))
        listed = await index.reviews("did:web:slow.example", rejudge=True)
        ticker.cancel()
        return ticks, decision.action, listed.reviews[-1].uid if listed.reviews else submitted.uid

    with http_server({"/.well-known/did.json": slow}) as server, dns_server({}) as dns:
        resolver = DidWebResolver(fetcher=SafeFetcher(overrides={"slow.example": server.base_url}))
        ticks, action, _ = asyncio.run(agent(resolver, dns))
    assert action in ("pay", "ask")
    assert ticks >= 30, f"the loop ticked only {ticks} times while the gate waited 0.6 s for did.json"
