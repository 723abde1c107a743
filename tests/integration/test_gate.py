"""The pre-payment gate against 402 servers on loopback, reviews seeded on the devnet, AttestSeal headers."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from omareview.devnet.node import Devnet
from omareview.eas.client import EasClient, review_request
from omareview.errors import InputError
from omareview.gate import AttestSealPolicy, Gate, Policy, Tier, sign_seal
from omareview.gate.policy import DEFAULT_POLICY
from omareview.identity import DidWebResolver, SafeFetcher, did_key_from_key
from omareview.index import JudgeContext, ReviewIndex
from omareview.networks import Network
from omareview.review import Proof, new_review
from omareview.signers import Signer
from omareview.x402 import (
    DidKey,
    Eip712Issuer,
    did_document,
    encode_header,
    offer_payload,
    offer_receipt_extension,
    receipt_payload,
)
from tests.helpers import run_cli
from tests.servers import Reply, dns_server, http_server

pytestmark = pytest.mark.chain_isolated
SERVICE = Eip712Issuer("0x" + "61" * 32)
STRANGER = Eip712Issuer("0x" + "62" * 32)
SEAL_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
TOKEN = "0x0DCd1Bf9A1b36cE34237eEaFef220932846BCD82"


@dataclass
class Setup:
    good: str  # base URL of the well-reviewed service (did:web:127.0.0.1)
    bad: str  # base URL of the badly reviewed one (did:web:localhost)
    gate: Callable[[Policy], Gate]
    env: dict[str, str]


def _accepts(amount: str) -> dict[str, Any]:
    return {
        "scheme": "exact",
        "network": "eip155:31337",
        "asset": TOKEN,
        "payTo": SERVICE.address,
        "amount": amount,
        "maxTimeoutSeconds": 60,
    }


def _402(
    url: str,
    *,
    amount: str = "10000",
    signer: Eip712Issuer | None = SERVICE,
    tamper: bool = False,
    extra_headers: dict[str, str] | None = None,
) -> Reply:
    accepts = _accepts(amount)
    message: dict[str, Any] = {"x402Version": 2, "resource": {"url": url}, "accepts": [accepts]}
    if signer is not None:
        offer = signer.sign_offer(offer_payload(url, accepts), accept_index=0)
        if tamper:
            offer["payload"]["amount"] = "1"
        message["extensions"] = offer_receipt_extension(offers=[offer])
    return Reply(402, b"{}", headers={"PAYMENT-REQUIRED": encode_header(message), **(extra_headers or {})})


def _seal(domain: str, changes: dict[str, str] | None = None) -> dict[str, str]:
    now = datetime.datetime.now(datetime.UTC)
    fields = {
        "issuer": "did:web:seal.example",
        "domain": domain,
        "score": "91",
        "recommendation": "DENY",
        "confidence": "high",
        "assurance-basis": "api_service_earned",
        "issued-at": now.isoformat(timespec="seconds"),
        "expires-at": (now + datetime.timedelta(days=7)).isoformat(timespec="seconds"),
        "scoring-model": "attestseal-v1.5.1-weights",
        "key-id": "did:web:seal.example#signing-key-1",
        **(changes or {}),
    }
    return sign_seal(fields, SEAL_KEY)


def _review(
    network: Network, signer: Signer, host: str, rating: int, proof: bool = True, payer: str | None = None, n: int = 0
) -> None:
    receipt = SERVICE.sign_receipt(
        receipt_payload(f"http://{host}/paid?n={n}", payer or signer.address, "eip155:31337")
    )
    proofs = (Proof.wrap("x402-receipt", receipt).to_text(),) if proof else ()
    review = new_review(subject=f"did:web:{host.split(':')[0]}", rating_value=rating, proofs=proofs)
    EasClient(network, signer).attest(review_request(review.recipient, review.encode()))


@pytest.fixture
def setup(network: Network, dev_signer: Callable[[int], Signer], tmp_path: Path) -> Iterator[Setup]:
    routes: dict[str, Reply] = {}
    seal_doc = {
        "id": "did:web:seal.example",
        "verificationMethod": [
            {
                "id": "did:web:seal.example#signing-key-1",
                "type": "Ed25519VerificationKey2020",
                "publicKeyMultibase": "M" + base64.b64encode(SEAL_KEY.public_key().public_bytes_raw()).decode(),
            }
        ],
    }
    with (
        http_server(routes) as service,  # type: ignore[arg-type]
        http_server(
            {
                "/.well-known/did.json": Reply(
                    body=json.dumps(
                        did_document("did:web:127.0.0.1", [DidKey("offers", address=SERVICE.address)])
                    ).encode()
                )
            }
        ) as good_doc,
        http_server(
            {
                "/.well-known/did.json": Reply(
                    body=json.dumps(
                        did_document("did:web:localhost", [DidKey("offers", address=SERVICE.address)])
                    ).encode()
                )
            }
        ) as bad_doc,
        http_server({"/.well-known/did.json": Reply(body=json.dumps(seal_doc).encode())}) as seal_server,
        dns_server({}) as dns,
    ):
        good, bad = f"http://127.0.0.1:{service.port}", f"http://localhost:{service.port}"
        for index in (1, 2, 3):
            _review(network, dev_signer(index), f"127.0.0.1:{service.port}", 5, n=index)
            _review(network, dev_signer(index), f"localhost:{service.port}", 1, n=index)
        _review(network, dev_signer(4), f"127.0.0.1:{service.port}", 1, proof=False)
        _review(network, dev_signer(5), f"127.0.0.1:{service.port}", 1, payer=dev_signer(6).address)
        routes.update(
            {
                "/paid": _402(f"{good}/paid"),
                "/dear": _402(f"{good}/dear", amount="500000"),
                "/stranger": _402(f"{good}/stranger", signer=STRANGER),
                "/tampered": _402(f"{good}/tampered", tamper=True),
                "/no-offer": _402(f"{good}/no-offer", signer=None),
                "/sealed": _402(f"{good}/sealed", extra_headers=_seal("127.0.0.1")),
                "/free": Reply(200, b"{}"),
            }
        )
        overrides = {
            "127.0.0.1": good_doc.base_url,
            "localhost": bad_doc.base_url,
            "seal.example": seal_server.base_url,
        }
        resolver = DidWebResolver(fetcher=SafeFetcher(overrides=overrides))
        index = ReviewIndex(network, home=tmp_path, judge_context=JudgeContext(resolver=resolver, dns_server=dns))

        def gate(policy: Policy) -> Gate:
            return Gate(index, policy, resolver=resolver, dns_server=dns)

        env = {
            "OMAREVIEW_DID_WEB_OVERRIDES": ",".join(f"{k}={v}" for k, v in overrides.items()),
            "OMAREVIEW_DNS_SERVER": dns,
        }
        yield Setup(good, bad, gate, env)


def _decide(gate: Gate, url: str):  # type: ignore[no-untyped-def]
    response = httpx.get(url)
    return gate.decide(url, response.status_code, response.headers, response.content)


def test_authorized_offer_and_proven_reviews(setup: Setup) -> None:
    gate = setup.gate(DEFAULT_POLICY)
    cheap = _decide(gate, f"{setup.good}/paid")
    assert (cheap.action, cheap.tier, cheap.limit and cheap.limit.amount) == ("pay", "proven", "1000000")
    assert cheap.reviews is not None and (cheap.reviews.verified_count, cheap.reviews.verified_average) == (3, 5.0)
    assert cheap.reviews.by_level == {"paid": 0, "verified": 3, "signed": 0, "unverified": 1, "invalid": 1}
    assert any("authorized for the host via did-json" in r for r in cheap.reasons)
    assert cheap.offer is not None and cheap.offer["amount"] == "10000"
    dear = _decide(gate, f"{setup.good}/dear")
    assert (dear.action, dear.tier) == ("pay", "proven"), "500000 is within the proven tier's 1000000"


def test_without_reviews_only_the_authorized_offer_tier_applies(setup: Setup) -> None:
    policy = DEFAULT_POLICY.model_copy(update={"tiers": [DEFAULT_POLICY.tiers[1]]})
    gate = setup.gate(policy)
    assert _decide(gate, f"{setup.good}/paid").action == "pay"
    dear = _decide(gate, f"{setup.good}/dear")
    assert dear.action == "ask"
    assert "tier authorized-offer: the amount 500000 exceeds its limit 100000" in dear.reasons


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/stranger", "the signer is not authorized for 127.0.0.1: not listed in the DID document"),
        ("/tampered", "a signed offer was refused"),
        ("/no-offer", "the 402 carries no signed offer"),
    ],
)
def test_offers_that_prove_nothing_mean_ask(setup: Setup, path: str, reason: str) -> None:
    decision = _decide(setup.gate(DEFAULT_POLICY), f"{setup.good}{path}")
    assert decision.action == "ask"
    assert any(reason in r for r in decision.reasons), decision.reasons
    assert decision.reasons[-1] == "no tier of the policy applies: ask"


def test_a_bad_proven_average_is_refused(setup: Setup) -> None:
    decision = _decide(setup.gate(DEFAULT_POLICY), f"{setup.bad}/paid")
    assert decision.subject == "did:web:localhost"
    assert decision.action == "refuse"
    assert "refused: the proven average 1.0 is below 2.0" in decision.reasons


def test_attestseal_is_advisory_unless_the_policy_says(setup: Setup) -> None:
    trusted = AttestSealPolicy(trusted_issuers=["did:web:seal.example"])
    default = _decide(setup.gate(DEFAULT_POLICY.model_copy(update={"attestseal": trusted})), f"{setup.good}/sealed")
    assert default.attestseal is not None and default.attestseal.status == "verified"
    assert default.action == "pay", "a verified DENY changes nothing unless the policy says so"
    strict = DEFAULT_POLICY.model_copy(update={"attestseal": trusted.model_copy(update={"deny": "refuse"})})
    refused = _decide(setup.gate(strict), f"{setup.good}/sealed")
    assert refused.action == "refuse" and "refused: a verified AttestSeal DENY, as the policy says" in refused.reasons
    untrusted = _decide(setup.gate(DEFAULT_POLICY), f"{setup.good}/sealed")
    assert untrusted.attestseal is not None and untrusted.attestseal.status == "unknown-issuer"


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"expires-at": "2020-01-01T00:00:00+00:00"}, "expired"),
        ({"domain": "elsewhere.example"}, "domain-mismatch"),
        ({"X-AttestSeal-Score": "not-a-number"}, "malformed"),
    ],
)
def test_attestseal_failures(setup: Setup, changes: dict[str, str], status: str) -> None:
    gate = setup.gate(
        DEFAULT_POLICY.model_copy(update={"attestseal": AttestSealPolicy(trusted_issuers=["did:web:seal.example"])})
    )
    signed = {k: v for k, v in changes.items() if not k.startswith("X-")}
    after = {k: v for k, v in changes.items() if k.startswith("X-")}
    headers = {**httpx.get(f"{setup.good}/paid").headers, **_seal("127.0.0.1", signed), **after}
    decision = gate.decide(f"{setup.good}/paid", 402, headers, b"{}")
    assert decision.attestseal is not None and decision.attestseal.status == status


def test_attestseal_bad_signature_and_standard_key_encoding(setup: Setup) -> None:
    gate = setup.gate(
        DEFAULT_POLICY.model_copy(update={"attestseal": AttestSealPolicy(trusted_issuers=["did:web:seal.example"])})
    )
    base = dict(httpx.get(f"{setup.good}/paid").headers)
    forged = {**base, **_seal("127.0.0.1"), "X-AttestSeal-Score": "99"}
    assert gate.decide(f"{setup.good}/paid", 402, forged, b"{}").attestseal.status == "bad-signature"  # type: ignore[union-attr]
    from omareview.gate.attestseal import _issuer_key

    z_key = did_key_from_key(SEAL_KEY.public_key()).removeprefix("did:key:")
    assert _issuer_key(z_key).public_bytes_raw() == SEAL_KEY.public_key().public_bytes_raw()


def test_bad_inputs(setup: Setup) -> None:
    gate = setup.gate(DEFAULT_POLICY)
    with pytest.raises(InputError, match="answered HTTP 200, not 402 Payment Required"):
        _decide(gate, f"{setup.good}/free")
    with pytest.raises(InputError, match="no readable payment requirements"):
        gate.decide(f"{setup.good}/x", 402, {}, b"not json")


def test_policy_validation(tmp_path: Path) -> None:
    from omareview.errors import ConfigError
    from omareview.gate import load_policy

    file = tmp_path / "policy.toml"
    file.write_text('[[tiers]]\nname = "t"\nlimits = { "*" = "1.5" }\n')
    with pytest.raises(ConfigError, match=r"tiers.0.limits: Value error, limit '\*' = '1.5' must be a whole number"):
        load_policy(file)
    file.write_text('otherwise = "pay"\n[[tiers]]\nname = "t"\nlimits = { "*" = "1" }\n')
    with pytest.raises(ConfigError, match="otherwise"):
        load_policy(file)
    with pytest.raises(ConfigError, match="does not exist"):
        load_policy(tmp_path / "nope.toml")
    assert Tier(name="x", limits={"EIP155:1/0xAB": "5"}).limit_for("eip155:1", "0xab") == 5


def test_check_command(setup: Setup, use_devnet: Devnet, devnet_home: Path) -> None:
    env = {**setup.env, "OMAREVIEW_HOME": str(devnet_home)}
    stranger = run_cli("check", f"{setup.good}/stranger", "--json", env=env)
    assert stranger.code == 1 and stranger.json()["action"] == "ask"
    assert set(stranger.json()) >= {"action", "url", "subject", "reasons", "offers", "reviews"}
    paid = run_cli("check", f"{setup.good}/paid", env=env)
    assert paid.code == 0 and paid.stdout.startswith("PAY up to 1000000")
    # The same level words and counts as `reviews`.
    assert (
        "5 review(s): paid 0 · verified 3 · signed 0 · unverified 1 · invalid 1; average 5.00/5 over the 3 counted"
        in (paid.stdout)
    ), paid.stdout
    free = run_cli("check", f"{setup.good}/free", env=env)
    assert free.code == 1 and "answered HTTP 200, not 402" in free.error_line
    down = run_cli("check", "http://127.0.0.1:9/paid", env=env)
    assert down.code == 3 and "cannot reach http://127.0.0.1:9/paid" in down.error_line
