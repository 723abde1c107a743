"""The index on its own devnet: every level, latest-per-attester, chunked scans through a hostile proxy,
a reorg leaving no ghost, and a two-round-trip incremental sync."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from omareview._devnet_state import network_of
from omareview.devnet.node import Devnet, start_devnet
from omareview.eas.abi import RequestData
from omareview.eas.client import EasClient, reset_nonce_tracking, review_request
from omareview.eas.rpc import RpcClient
from omareview.eas.schema_codec import encode_data
from omareview.identity import DidWebResolver, SafeFetcher, did_address, did_key_from_key
from omareview.index import JudgeContext, ReviewIndex
from omareview.networks import Network
from omareview.review import Proof, new_review
from omareview.schemas import get_schema
from omareview.signers import signer_from_key
from omareview.x402 import DidKey, Eip712Issuer, JwsIssuer, did_document, receipt_payload
from tests.helpers import revert_chain, run_node
from tests.rpc_proxy import rpc_proxy
from tests.servers import Reply, dns_server, http_server

pytestmark = [pytest.mark.devnet, pytest.mark.usefixtures("store_engine")]

SERVER = Eip712Issuer("0x" + "51" * 32)
STRANGER = Eip712Issuer("0x" + "52" * 32)
JWS_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
JWS = JwsIssuer(JWS_KEY, did_key_from_key(JWS_KEY.public_key()) + "#0")
SUBJECT = "did:web:api.example.com"
QUIET = "did:web:quiet.example"


@dataclass
class World:
    devnet: Devnet
    network: Network
    context: JudgeContext
    home: Path
    uids: dict[str, str]


def _receipt(
    issuer: Eip712Issuer | JwsIssuer, payer: str, resource: str = "https://api.example.com/data", n: int = 0
) -> dict:
    return issuer.sign_receipt(receipt_payload(f"{resource}?n={n}", payer, "eip155:31337"))


def _proof(envelope: dict) -> str:
    return Proof.wrap("x402-receipt", envelope).to_text()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("index-world")
    doc = did_document(
        SUBJECT, [DidKey("eip712", address=SERVER.address), DidKey("jws", public_key=JWS_KEY.public_key())]
    )
    routes = {"/.well-known/did.json": Reply(body=json.dumps(doc).encode())}
    with (
        # paris + pruned history: post-merge forks write per-block history state, which makes mining 20,000
        # blocks take minutes instead of a second; EAS is compiled for paris anyway.
        start_devnet(home=home / "devnet", anvil_args=["--hardfork", "paris", "--prune-history"]) as devnet,
        http_server(routes) as server,
        http_server({}) as empty,
        dns_server({}) as dns,
    ):
        state = devnet.state
        network = network_of(state)
        signers = [signer_from_key(a.private_key.get_secret_value()) for a in state.accounts]
        uids: dict[str, str] = {}

        def write(name: str, index: int, rating: int, proofs: tuple[str, ...] = (), subject: str = SUBJECT) -> None:
            review = new_review(subject=subject, rating_value=rating, review_body=name, proofs=proofs)
            uids[name] = (
                EasClient(network, signers[index]).attest(review_request(review.recipient, review.encode())).uid
            )

        a, b, e, f, g = (signers[i].address for i in (1, 2, 5, 6, 7))
        write("A-first", 1, 5, (_proof(_receipt(SERVER, a, n=1)),))
        write("B-jws", 2, 4, (_proof(_receipt(JWS, b)),))
        write("C-no-proof", 3, 3)
        RpcClient(state.rpc_url).call("anvil_mine", [hex(20_000)])
        write("D-not-the-payer", 4, 1, (_proof(_receipt(SERVER, a, n=4)),))
        tampered = _receipt(SERVER, e)
        tampered["payload"]["resourceUrl"] = "https://api.example.com/other"
        write("E-tampered", 5, 1, (_proof(tampered),))
        write("G-quiet", 7, 4, (_proof(_receipt(STRANGER, g, resource="https://quiet.example/x")),), subject=QUIET)
        legacy = get_schema("user-review-legacy-2025-10b")
        data = encode_data(legacy.schema_string, [SUBJECT, "1.0", "legacy", "legacy review", "H", 4, [], 0, 0, 0])
        uids["H-legacy"] = (
            EasClient(network, signers[8])
            .attest(RequestData(did_address(SUBJECT), 0, False, "0x" + "00" * 32, data), legacy.uid)
            .uid
        )
        RpcClient(state.rpc_url).call("anvil_mine", [hex(20_000)])
        written = run_node(
            "eas_reference.mjs",
            {
                "action": "attest",
                "rpcUrl": state.rpc_url,
                "easAddress": state.eas_address,
                "privateKey": state.accounts[6].private_key.get_secret_value(),
                "schemaUid": network.schema_uid(),
                "schema": get_schema("user-review").schema_string,
                "reviews": [
                    {
                        "recipient": did_address(SUBJECT),
                        "fields": [
                            {"name": "subject", "type": "string", "value": SUBJECT},
                            {"name": "version", "type": "string", "value": ""},
                            {"name": "ratingValue", "type": "uint256", "value": 5},
                            {"name": "reviewBody", "type": "string", "value": "F-eas-sdk"},
                            {"name": "screenshotUrls", "type": "string[]", "value": []},
                            {"name": "proofs", "type": "string[]", "value": [_proof(_receipt(SERVER, f))]},
                        ],
                    }
                ],
            },
        )
        uids["F-eas-sdk"] = written["results"][0]["uid"]
        write("A-second", 1, 2, (_proof(_receipt(SERVER, a, n=2)),))
        fetcher = SafeFetcher(overrides={"api.example.com": server.base_url, "quiet.example": empty.base_url})
        context = JudgeContext(resolver=DidWebResolver(fetcher=fetcher), dns_server=dns)
        yield World(devnet, network, context, home, uids)
        reset_nonce_tracking()


def _write(world: World, rating: int, body: str, receipt_n: int | None = None) -> None:
    """One more review of SUBJECT by account 9, with a receipt proof numbered `receipt_n` when given."""
    signer = signer_from_key(world.devnet.state.accounts[9].private_key.get_secret_value())
    proofs = (_proof(_receipt(SERVER, signer.address, n=receipt_n)),) if receipt_n is not None else ()
    review = new_review(subject=SUBJECT, rating_value=rating, review_body=body, proofs=proofs)
    EasClient(world.network, signer).attest(review_request(review.recipient, review.encode()))


def _by_body(result) -> dict[str, tuple[str, int | None]]:
    return {r.review_body: (r.level, r.rating_value) for r in result.reviews}


def test_every_level_and_latest_per_attester(world: World, tmp_path: Path) -> None:
    index = ReviewIndex(world.network, home=tmp_path, judge_context=world.context)
    synced = index.sync()
    assert synced.added == 9 and synced.to_block > 40_000
    result = index.reviews("https://api.example.com/anything?at=all")
    assert result.subject == SUBJECT and result.recipient == did_address(SUBJECT)
    assert _by_body(result) == {
        "A-second": ("verified", 2),
        "B-jws": ("verified", 4),
        "C-no-proof": ("unverified", 3),
        "D-not-the-payer": ("invalid", 1),
        "E-tampered": ("invalid", 1),
        "F-eas-sdk": ("verified", 5),
        "legacy review": ("unverified", 4),
    }
    assert result.count == 7
    assert result.by_level == {"paid": 0, "verified": 3, "signed": 0, "unverified": 2, "invalid": 2}
    # By default only reviews nobody can forge are averaged: here the three verified ones.
    assert (result.average_from, result.average_rating) == ("verified", round((2 + 4 + 5) / 3, 2))
    assert result.histogram == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}
    lowered = index.reviews(SUBJECT, average_from="unverified")
    assert lowered.average_rating == round((2 + 4 + 3 + 5 + 4) / 5, 2)
    assert lowered.histogram == {"1": 0, "2": 1, "3": 1, "4": 2, "5": 1}
    invalid = {r.review_body: r for r in result.reviews if r.level == "invalid"}
    assert "is not the attester" in invalid["D-not-the-payer"].proofs[0].errors[0]
    assert "not authorized" in invalid["E-tampered"].proofs[0].errors[0]
    # Every review that is not paid says why at the top, not only under proofs[].errors.
    assert all(r.reason for r in result.reviews), [(r.review_body, r.level) for r in result.reviews if not r.reason]
    why = invalid["D-not-the-payer"].reason or ""
    assert why.startswith("its receipt proof fails: ") and "is not the attester" in why
    quiet = index.reviews(QUIET)
    assert [(r.level, r.rating_value) for r in quiet.reviews] == [("signed", 4)]
    assert (quiet.reviews[0].reason or "").startswith("the receipt's signer could not be shown to speak for")
    assert quiet.reviews[0].proofs[0].authorization.status == "unknown"


def test_filters_and_pagination(world: World, tmp_path: Path) -> None:
    index = ReviewIndex(world.network, home=tmp_path, judge_context=world.context)
    index.sync()
    verified = index.reviews(SUBJECT, min_level="verified")
    assert {r.review_body for r in verified.reviews} == {"A-second", "B-jws", "F-eas-sdk"}
    assert verified.count == 7 and verified.total == 3, "the summary covers every review, the list is filtered"
    page = index.reviews(SUBJECT, limit=2, offset=1)
    assert len(page.reviews) == 2 and page.total == 7
    assert page.reviews[0].uid == index.reviews(SUBJECT).reviews[1].uid
    by_a = index.reviews(SUBJECT, attester=world.devnet.state.accounts[1].address)
    assert [r.review_body for r in by_a.reviews] == ["A-second"]
    assert index.reviews(SUBJECT, since=2**40).reviews == []


def test_a_hostile_proxy_does_not_change_the_answer(world: World, tmp_path: Path) -> None:
    with (
        rpc_proxy(world.network.rpc_url, max_log_range=1000, fail_every=5) as (url, stats),
        ReviewIndex(
            world.network.model_copy(update={"rpc_url": url}), home=tmp_path, judge_context=world.context
        ) as index,
    ):
        synced = index.sync()
        assert stats.refused_ranges > 0 and stats.failed > 0
        assert synced.added == 9
        with ReviewIndex(world.network, home=tmp_path / "direct", judge_context=world.context) as direct:
            direct.sync()
            assert _by_body(index.reviews(SUBJECT)) == _by_body(direct.reviews(SUBJECT))


def test_incremental_sync_takes_two_round_trips(world: World, tmp_path: Path) -> None:
    rpc = RpcClient(world.network.rpc_url)
    snapshot = rpc.call("evm_snapshot")
    try:
        with rpc_proxy(world.network.rpc_url) as (url, stats):
            index = ReviewIndex(
                world.network.model_copy(update={"rpc_url": url}), home=tmp_path, judge_context=world.context
            )
            index.sync()
            _write(world, 5, "fresh", receipt_n=9)
            before = stats.round_trips
            synced = index.sync()
            assert (synced.added, stats.round_trips - before) == (1, 2)
            assert "fresh" in _by_body(index.reviews(SUBJECT, rejudge=True))
    finally:
        revert_chain(rpc.call, snapshot)
        reset_nonce_tracking()


def test_a_reorg_leaves_no_ghost_review(world: World, tmp_path: Path) -> None:
    rpc = RpcClient(world.network.rpc_url)
    index = ReviewIndex(world.network, home=tmp_path, judge_context=world.context)
    index.sync()
    snapshot = rpc.call("evm_snapshot")
    _write(world, 1, "ghost")
    index.sync()
    assert "ghost" in _by_body(index.reviews(SUBJECT))
    revert_chain(rpc.call, snapshot)
    reset_nonce_tracking()
    rpc.call("anvil_mine", [hex(5)])
    synced = index.sync()
    assert synced.removed == 1
    assert "ghost" not in _by_body(index.reviews(SUBJECT))
    assert index.reviews(SUBJECT).count == 7


def test_a_gap_wider_than_the_node_range_resumes_from_the_cursor(world: World, tmp_path: Path) -> None:
    rpc = RpcClient(world.network.rpc_url)
    snapshot = rpc.call("evm_snapshot")
    try:
        with rpc_proxy(world.network.rpc_url, max_log_range=1000) as (url, cold_stats):
            index = ReviewIndex(
                world.network.model_copy(update={"rpc_url": url}), home=tmp_path, judge_context=world.context
            )
            cold = index.sync()
            # The scanner learns the stated limit after one refusal and stays just under it.
            assert cold_stats.refused_ranges <= 2, cold_stats.refused_ranges
            rpc.call("anvil_mine", [hex(2_500)])
            _write(world, 3, "after the gap", receipt_n=77)
            before = cold_stats.round_trips
            caught_up = index.sync()
            trips = cold_stats.round_trips - before
        assert caught_up.added == 1 and caught_up.from_block > cold.to_block - 100, "no rescan from the deployment"
        gap = caught_up.to_block - caught_up.from_block + 1
        assert trips <= -(-gap // 1000) + 4, (trips, gap)
    finally:
        revert_chain(rpc.call, snapshot)
        reset_nonce_tracking()


def test_one_judge_context_serves_several_indexes_each_with_its_own_graph(world: World, tmp_path: Path) -> None:
    shared = JudgeContext(resolver=world.context.resolver, dns_server=world.context.dns_server)
    with (
        ReviewIndex(world.network, home=tmp_path / "a", judge_context=shared) as first,
        ReviewIndex(world.network, home=tmp_path / "b", judge_context=shared) as second,
    ):
        assert shared.graph is None and shared.payments is None, "the caller's context is left as it was"
        assert first.judge_context.graph is not second.judge_context.graph
        assert first.judge_context.authorizations is second.judge_context.authorizations, "caches stay shared"
    with ReviewIndex(world.network, home=tmp_path / "c", judge_context=shared) as third:
        third.sync()
        assert third.reviews(SUBJECT).count > 0, "a closed index's store is not read by the next"
