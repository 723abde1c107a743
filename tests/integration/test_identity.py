"""The OMATrust identity graph on the devnet: key bindings and witnesses judged as of a receipt's `issuedAt`,
linked wallets (EVM and Solana), and service responses — written with the `identity`, `respond` and
`devnet witness` commands, read by the index."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from omareview.devnet.node import Devnet
from omareview.eas.client import EasClient, review_request
from omareview.eas.rpc import RpcClient
from omareview.gate import Gate
from omareview.gate.policy import DEFAULT_POLICY
from omareview.identity import DidWebResolver, SafeFetcher, make_pop_eip712
from omareview.identity.keys import did_pkh_from_address
from omareview.index import JudgeContext, ReviewIndex
from omareview.networks import Network
from omareview.review import Proof, new_review
from omareview.review.identity_requests import (
    controller_witness_request,
    key_binding_request,
    linked_identifier_request,
)
from omareview.schemas import get_schema
from omareview.signers import Signer, signer_from_key
from omareview.x402 import Eip712Issuer, receipt_payload
from tests.helpers import revert_chain, run_cli
from tests.reviews import payment_required
from tests.servers import dns_server, http_server

pytestmark = [pytest.mark.devnet, pytest.mark.usefixtures("store_engine")]

SIGNING_KEY = "0x" + "61" * 32
SERVER = Eip712Issuer(SIGNING_KEY)
ROTATED_KEY = "0x" + "62" * 32
ROTATED = Eip712Issuer(ROTATED_KEY)
STRANGER_KEY = "0x" + "63" * 32
STRANGER = Eip712Issuer(STRANGER_KEY)
WITNESSED = Eip712Issuer("0x" + "64" * 32)
SUBJECT = "did:web:keys.example"
WITNESS_SUBJECT = "did:web:witnessed.example"
SOLANA = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
CONTROLLER, STRANGE, PAYER, IDENTITY, SOL_REVIEWER = 3, 6, 1, 2, 7


@dataclass
class World:
    devnet: Devnet
    network: Network
    env: dict[str, str]
    context: JudgeContext
    home: Path
    signer: Callable[[int], Signer]
    index: ReviewIndex

    def now(self) -> int:
        return int(RpcClient(self.network.rpc_url).call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def advance(self, seconds: int) -> None:
        rpc = RpcClient(self.network.rpc_url)
        rpc.call("evm_increaseTime", [seconds])
        rpc.call("evm_mine", [])

    def cli(self, *args: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
        result = run_cli(*args, "--json", env={**self.env, **(extra or {})})
        assert result.code == 0, result.stderr
        parsed: dict[str, Any] = json.loads(result.stdout)
        return parsed

    def bind_key(self, *options: str, key: str = "SIGNING", extra: dict[str, str] | None = None) -> dict[str, Any]:
        """`identity bind-key` of the subject, the signing key read from $`key`."""
        return self.cli("identity", "bind-key", SUBJECT, "--signing-key-env", key, *options, extra=extra)

    def submit(self, payer: str, path: Path, account: int) -> tuple[str, ...]:
        """`review submit` of a fresh receipt paid by `payer` (written to `path`), signed by dev `account`."""
        receipt = SERVER.sign_receipt(
            receipt_payload("https://keys.example/paid", payer, "eip155:31337", issued_at=self.now())
        )
        path.write_text(json.dumps(receipt))
        return (
            "review",
            "submit",
            "--receipt",
            str(path),
            "--rating",
            "4",
            "--no-authorize",
            "--dev-account",
            str(account),
        )

    def review(
        self,
        account: int,
        issuer: Eip712Issuer,
        payer: str,
        *,
        at: int,
        network: str = "eip155:31337",
        subject: str = SUBJECT,
        transaction: str | None = None,
    ) -> str:
        host = subject.removeprefix("did:web:")
        payload = receipt_payload(f"https://{host}/paid", payer, network, issued_at=at, transaction=transaction)
        envelope = issuer.sign_receipt(payload)
        review = new_review(
            subject=subject,
            rating_value=4,
            review_body=f"by {account}",
            proofs=(Proof.wrap("x402-receipt", envelope).to_text(),),
        )
        return (
            EasClient(self.network, self.signer(account)).attest(review_request(review.recipient, review.encode())).uid
        )

    def judged(self, subject: str = SUBJECT) -> dict[str, Any]:
        self.index.sync()
        found = self.index.reviews(subject, rejudge=True)
        return {review.uid: review for review in found.reviews}


@pytest.fixture
def world(
    devnet: Devnet,
    isolated_chain: object,
    cli_env: dict[str, str],
    network: Network,
    dev_signer: Callable[[int], Signer],
    tmp_path: Path,
) -> Iterator[World]:
    # Neither host publishes a did.json or a TXT record: only the chain can authorize their signers.
    with http_server({}) as empty, dns_server({}) as dns:
        fetcher = SafeFetcher(overrides={"keys.example": empty.base_url, "witnessed.example": empty.base_url})
        context = JudgeContext(resolver=DidWebResolver(fetcher=fetcher), dns_server=dns)
        env = {
            **cli_env,
            "OMAREVIEW_DNS_SERVER": dns,
            "OMAREVIEW_DID_WEB_OVERRIDES": f"keys.example={empty.base_url},witnessed.example={empty.base_url}",
            "SIGNING": SIGNING_KEY,
            "ROTATED": ROTATED_KEY,
        }
        with ReviewIndex(network, home=tmp_path / "home", judge_context=context) as index:
            yield World(devnet, network, env, context, tmp_path / "home", dev_signer, index)


def _errors(review: Any) -> str:
    return " ".join(error for proof in review.proofs for error in proof.errors)


def _level(review: Any) -> tuple[str, str | None]:
    return review.level, review.evidence.authorization.tier if review.evidence is not None else None


def test_a_witnessed_controller_binds_its_receipt_key_and_revoking_it_closes_authorization(world: World) -> None:
    controller = world.signer(CONTROLLER).address
    world.cli("devnet", "witness", SUBJECT, did_pkh_from_address(controller, 31337))
    bound = world.bind_key("--dev-account", str(CONTROLLER))
    assert bound["kind"] == "key-binding" and bound["keyId"] == did_pkh_from_address(SERVER.address, 1)
    # A rotated key, bound for a minute only.
    expiring = world.now() + 60
    world.bind_key("--expires-at", str(expiring), "--dev-account", str(CONTROLLER), key="ROTATED")
    # A stranger binds a key of its own for the subject: it is not the subject's controller.
    world.bind_key("--dev-account", str(STRANGE), extra={"SIGNING": STRANGER_KEY})
    world.advance(5)
    before = world.review(4, SERVER, world.signer(4).address, at=world.now())
    by_stranger_key = world.review(5, STRANGER, world.signer(5).address, at=world.now())
    judged = world.judged()
    assert _level(judged[before]) == ("verified", "key-binding")
    assert judged[before].evidence.authorization.uid == bound["uid"]
    assert _level(judged[by_stranger_key]) == ("signed", None)

    world.advance(5)
    world.cli("identity", "revoke", bound["uid"], "--dev-account", str(CONTROLLER))
    world.advance(120)
    after = world.review(5, SERVER, world.signer(5).address, at=world.now())
    rotated_late = world.review(8, ROTATED, world.signer(8).address, at=world.now())
    judged = world.judged()
    assert _level(judged[before]) == ("verified", "key-binding"), "a review of a receipt before the revocation stays"
    assert judged[after].level == "invalid"
    assert "revoked" in _errors(judged[after])
    assert judged[rotated_late].level == "invalid" and "expired" in _errors(judged[rotated_late])

    # The controller answers a review; a stranger's answer is shown but not counted.
    world.cli("respond", before, "--body", "Thanks, fixed in v2.", "--dev-account", str(CONTROLLER))
    world.cli("respond", before, "--body", "I am the service, honest.", "--dev-account", str(STRANGE))
    responses = world.judged()[before].responses
    assert [(r.response_body, r.counted) for r in responses] == [
        ("Thanks, fixed in v2.", True),
        ("I am the service, honest.", False),
    ]
    assert responses[0].tier == "witness"
    shown = run_cli("reviews", SUBJECT, env=world.env)
    assert shown.code == 0, shown.stderr
    assert "↳ the service answered" in shown.stdout and "Thanks, fixed in v2." in shown.stdout
    assert "not the service, answered: I am the service, honest." in shown.stdout


def test_a_witness_counts_from_its_own_chain_time_and_only_from_a_trusted_issuer(world: World) -> None:
    signer_did = did_pkh_from_address(WITNESSED.address, 31337)
    observed = world.now() + 30
    # A stranger "witnesses" earlier; the devnet's trusted witness observes 30 s later, and attests it
    # about 10 s after that.
    stranger = EasClient(world.network, world.signer(STRANGE))
    stranger.attest(
        controller_witness_request(WITNESS_SUBJECT, signer_did, "dns-txt", observed - 1000),
        world.network.schema_uid("controller-witness"),
    )
    world.advance(40)
    world.cli("devnet", "witness", WITNESS_SUBJECT, signer_did, "--observed-at", str(observed))
    attested = world.now()
    early = world.review(4, WITNESSED, world.signer(4).address, at=observed - 20, subject=WITNESS_SUBJECT)
    between = world.review(6, WITNESSED, world.signer(6).address, at=observed + 5, subject=WITNESS_SUBJECT)
    late = world.review(5, WITNESSED, world.signer(5).address, at=attested + 1, subject=WITNESS_SUBJECT)
    judged = world.judged(WITNESS_SUBJECT)
    assert _level(judged[early]) == ("signed", None), "observed after issuedAt: no witness counts"
    assert _level(judged[between]) == ("signed", None), "observed before issuedAt, but attested after it"
    assert _level(judged[late]) == ("verified", "witness")


def test_a_payer_wallet_linked_to_the_reviewer(world: World, tmp_path: Path) -> None:
    payer, reviewer = world.signer(PAYER).address, world.signer(IDENTITY).address
    payer_did, reviewer_did = did_pkh_from_address(payer, 31337), did_pkh_from_address(reviewer, 31337)
    controller = world.signer(CONTROLLER).address
    world.cli("devnet", "witness", SUBJECT, did_pkh_from_address(controller, 31337))
    world.bind_key("--dev-account", str(CONTROLLER))
    world.advance(5)
    unlinked = world.review(IDENTITY, SERVER, payer, at=world.now())

    # A forged proof (signed by another wallet, claiming to be the payer) is refused by `identity link`.
    forged = make_pop_eip712(world.signer(STRANGE), reviewer_did, 31337, world.now(), 600)
    forged["proofObject"]["message"]["signer"] = payer
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    refused = run_cli(
        "identity",
        "link",
        payer_did,
        "--proof",
        str(tmp_path / "forged.json"),
        "--dev-account",
        str(IDENTITY),
        env=world.env,
    )
    assert refused.code == 1
    assert refused.stderr.strip().splitlines()[-1].startswith("error:")
    # ... and one written straight to EAS does not count.
    EasClient(world.network, world.signer(IDENTITY)).attest(
        linked_identifier_request(
            reviewer_did,
            payer_did,
            [make_pop_eip712(world.signer(IDENTITY), payer_did, 31337, world.now(), 600), forged],
            issued_at=world.now(),
        ),
        world.network.schema_uid("linked-identifier"),
    )
    world.advance(5)
    assert world.judged()[unlinked].level == "invalid"
    assert "payer" in _errors(world.judged()[unlinked])

    proof = world.cli("identity", "prove", reviewer_did, "--dev-account", str(PAYER))
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    link = world.cli(
        "identity", "link", payer_did, "--proof", str(tmp_path / "proof.json"), "--dev-account", str(IDENTITY)
    )
    world.advance(5)
    # `review submit` writes it: refused without the link, accepted with it (checked on-chain first).
    submit = world.submit(payer, tmp_path / "receipt.json", IDENTITY)
    refused = run_cli(*submit, env=world.env)
    assert refused.code == 1 and "payer" in refused.stderr.strip().splitlines()[-1]
    linked = world.cli(*submit, "--payer-link", link["uid"])["uid"]
    judged = world.judged()
    assert judged[linked].level == "verified"
    assert judged[linked].evidence.link == link["uid"]

    world.advance(5)
    world.cli("identity", "revoke", link["uid"], "--dev-account", str(IDENTITY))
    world.advance(5)
    after = world.review(IDENTITY, SERVER, payer, at=world.now())
    assert world.judged()[after].level == "invalid", "the link was revoked before this review was written"


def test_a_solana_payer_linked_to_an_evm_reviewer(world: World, tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    address = base58.b58encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    assert address.lower() != address, "the test needs a mixed-case base58 address"
    reviewer = world.signer(SOL_REVIEWER).address
    world.cli("devnet", "witness", SUBJECT, did_pkh_from_address(world.signer(CONTROLLER).address, 31337))
    world.bind_key("--dev-account", str(CONTROLLER))
    raw = key.private_bytes_raw().hex()
    proof = world.cli(
        "identity", "prove", did_pkh_from_address(reviewer, 31337), "--ed25519-key-env", "SOLKEY", extra={"SOLKEY": raw}
    )
    assert proof["proofType"] == "pop-jws"
    (tmp_path / "sol.json").write_text(json.dumps(proof))
    solana_did = f"did:pkh:{SOLANA}:{address}"
    world.cli("identity", "link", solana_did, "--proof", str(tmp_path / "sol.json"), "--dev-account", str(SOL_REVIEWER))
    world.advance(5)
    paid = world.review(SOL_REVIEWER, SERVER, address, at=world.now(), network=SOLANA, transaction="5" + "h" * 86)
    judged = world.judged()[paid]
    assert judged.level == "verified"
    assert judged.evidence.payment.status == "unsupported-network"


def test_a_revocation_a_reorg_takes_away_is_undone(world: World) -> None:
    world.cli("devnet", "witness", SUBJECT, did_pkh_from_address(world.signer(CONTROLLER).address, 31337))
    bound = world.bind_key("--dev-account", str(CONTROLLER))
    world.advance(5)
    world.judged()
    rpc = RpcClient(world.network.rpc_url)
    snapshot = rpc.call("evm_snapshot", [])
    world.cli("identity", "revoke", bound["uid"], "--dev-account", str(CONTROLLER))
    world.judged()
    graph = world.index.judge_context.graph
    assert graph is not None

    def revoked_at() -> int:
        return next(b.revocation_time for b in graph.about(SUBJECT, "key-binding") if b.uid == bound["uid"])

    assert revoked_at() > 0
    assert revert_chain(rpc.call, snapshot)
    rpc.call("anvil_mine", [hex(3)])  # the same heights, other blocks: the revocation's block is gone
    world.judged()
    assert revoked_at() == 0


def test_identity_commands_refuse_bad_input_in_one_line(world: World, tmp_path: Path) -> None:
    controller = str(CONTROLLER)
    witness = world.cli("devnet", "witness", SUBJECT, did_pkh_from_address(world.signer(CONTROLLER).address, 31337))
    (tmp_path / "deep.json").write_text("[" * 100 + "]" * 100)
    submit = world.submit(world.signer(PAYER).address, tmp_path / "receipt.json", IDENTITY)
    cases = [
        (
            (*submit, "--payer-link", witness["uid"]),
            "is not a Linked Identifier",
        ),
        (("respond", witness["uid"], "--body", "hi", "--dev-account", controller), "is not a User Review"),
        (("respond", "0x" + "00" * 32, "--body", "x" * 501, "--dev-account", controller), "at most 500 characters"),
        (("identity", "revoke", witness["uid"], "--dev-account", controller), "not a revocable"),
        (
            (
                "identity",
                "bind-key",
                "did:pkh:eip155:1:" + "0x" + "11" * 20,
                "--signing-key-env",
                "SIGNING",
                "--dev-account",
                controller,
            ),
            "not a did:web subject",
        ),
        (
            (
                "identity",
                "link",
                "did:pkh:eip155:1:0x" + "11" * 20,
                "--proof",
                str(tmp_path / "deep.json"),
                "--dev-account",
                controller,
            ),
            "nested",
        ),
    ]
    rpc = RpcClient(world.network.rpc_url)
    before = rpc.block_number()
    for args, message in cases:
        result = run_cli(*args, env=world.env)
        lines = result.stderr.strip().splitlines()
        assert result.code == 1 and len(lines) == 1 and lines[0].startswith("error:"), (args, result.stderr)
        assert message in lines[0], (args, lines[0])
    assert rpc.block_number() == before, "nothing was written"


def test_a_key_binding_under_the_prior_non_revocable_schema_counts(world: World) -> None:
    prior = get_schema("key-binding-legacy-nonrevocable")
    controller = world.signer(CONTROLLER)
    world.cli("devnet", "witness", SUBJECT, did_pkh_from_address(controller.address, 31337))
    world.advance(5)
    now = world.now()
    signing = signer_from_key(SIGNING_KEY)
    request = key_binding_request(
        SUBJECT,
        did_pkh_from_address(signing.address, 1),
        None,
        ["assertionMethod"],
        [make_pop_eip712(signing, SUBJECT, 1, now, 600)],
        issued_at=now,
    )
    EasClient(world.network, controller).attest(request._replace(revocable=False), prior.uid)
    world.advance(5)
    review = world.review(4, SERVER, world.signer(4).address, at=world.now())
    assert _level(world.judged()[review]) == ("verified", "key-binding")


def test_the_gate_trusts_an_offer_signed_by_a_bound_key(world: World) -> None:
    controller = world.signer(CONTROLLER)
    url = "https://keys.example/paid"
    accepts = {
        "scheme": "exact",
        "network": "eip155:31337",
        "asset": "0x" + "11" * 20,
        "payTo": controller.address,
        "amount": "1000",
        "maxTimeoutSeconds": 60,
    }
    headers = {"payment-required": payment_required(SERVER, url, accepts)}

    def decide() -> Any:
        gate = Gate(world.index, DEFAULT_POLICY, resolver=world.context.resolver, dns_server=world.context.dns_server)
        return gate.decide(url, 402, headers, b"{}")

    assert not any("key-binding" in reason for reason in decide().reasons)
    world.cli("devnet", "witness", SUBJECT, did_pkh_from_address(controller.address, 31337))
    # The gate judges an offer as of this machine's clock, which the devnet's (moved by other tests) may be ahead of.
    world.bind_key(
        "--effective-at",
        str(int(time.time()) - 60),
        "--dev-account",
        str(CONTROLLER),
    )
    world.index.sync()
    decided = decide()
    assert any("authorized for the host via key-binding" in reason for reason in decided.reasons), decided.reasons
