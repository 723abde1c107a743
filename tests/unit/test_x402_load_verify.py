"""Loading from every carrier, and verification verdicts for good and bad artifacts (no network)."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from omareview.errors import InputError
from omareview.identity import did_key_from_key
from omareview.identity._b64 import b64url_encode
from omareview.x402 import (
    Eip712Issuer,
    JwsIssuer,
    VerifyOptions,
    artifact_digest,
    encode_header,
    load_artifacts,
    offer_payload,
    offer_receipt_extension,
    receipt_payload,
    sign_payment_required,
    sign_settle_response,
    to_caip2,
    verify_artifact,
)
from tests.vectors import ANVIL0, OFFER, OFFER_SIG, RECEIPT, RECEIPT_SIG

ANVIL0_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ENVELOPE = {"format": "eip712", "payload": RECEIPT, "signature": RECEIPT_SIG}
OFFER_ENVELOPE = {"format": "eip712", "acceptIndex": 0, "payload": OFFER, "signature": OFFER_SIG}
SETTLE = {
    "success": True,
    "transaction": "0x" + "12" * 32,
    "network": "eip155:8453",
    "payer": RECEIPT["payer"],
    "extensions": offer_receipt_extension(receipt=ENVELOPE),
}
PAYMENT_REQUIRED = {
    "x402Version": 2,
    "resource": {"url": OFFER["resourceUrl"]},
    "accepts": [{"scheme": "exact", "network": "eip155:8453", "amount": "10000"}],
    "extensions": offer_receipt_extension(offers=[OFFER_ENVELOPE]),
}
NO_NET = VerifyOptions(authorize=False, now=1703123500)


def only(value: Any) -> dict[str, Any]:
    (artifact,) = load_artifacts(value)
    return artifact.envelope


@pytest.mark.parametrize(
    "carrier",
    [
        ENVELOPE,
        json.dumps(ENVELOPE),
        json.dumps(ENVELOPE).encode(),
        SETTLE,
        encode_header(SETTLE),
        base64.urlsafe_b64encode(json.dumps(SETTLE).encode()).decode(),
        {"proofType": "x402-receipt", "proofPurpose": "commercial-tx", "proofObject": ENVELOPE},
        {"proofType": "x402-receipt", "proofObject": json.dumps(ENVELOPE)},
        {"_meta": {"x402/payment-response": SETTLE}},
        {**{k: v for k, v in SETTLE.items() if k != "network"}, "network": "base"},
        "  \n" + encode_header(SETTLE)[:40] + "\n" + encode_header(SETTLE)[40:] + "\n",
    ],
)
def test_every_receipt_carrier_gives_the_envelope_as_received(carrier: Any) -> None:
    assert only(carrier) == ENVELOPE


def test_payment_required_gives_every_offer_with_its_context() -> None:
    for carrier in (PAYMENT_REQUIRED, encode_header(PAYMENT_REQUIRED)):
        (offer,) = load_artifacts(carrier)
        assert offer.kind == "offer" and offer.envelope == OFFER_ENVELOPE
        assert offer.resource_url == OFFER["resourceUrl"]
        assert offer.accepts[0].amount == "10000"
    v1_body = {
        "x402Version": 1,
        "error": "",
        "accepts": [{"network": "base"}],
        "extensions": PAYMENT_REQUIRED["extensions"],
    }
    assert load_artifacts(v1_body)[0].envelope == OFFER_ENVELOPE


def test_compact_jws_and_jws_proof_object() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    envelope = JwsIssuer(private, did_key_from_key(private.public_key()) + "#0").sign_receipt(
        receipt_payload("https://x.example/a", ANVIL0, "eip155:1")
    )
    assert only(envelope["signature"]) == envelope
    assert only({"proofType": "x402-receipt", "proofObject": envelope["signature"]}) == envelope


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {**SETTLE, "success": False, "errorReason": "insufficient_funds"},
            "the settlement failed \\(insufficient_funds\\)",
        ),
        ({"success": True, "transaction": "0x1"}, "carries no signed receipt"),
        ({"x402Version": 2, "accepts": []}, "carries no signed offers"),
        ("", "is empty"),
        ("not json at all", "neither JSON, a base64 x402 header value, nor a compact JWS"),
        ("{broken", "is not valid JSON"),
        (b"\xff\xfe", "is not UTF-8"),
        ("x" * (9 * 1024 * 1024), "larger than 8 MiB"),
        (
            {**ENVELOPE, "payload": {**RECEIPT, "resourceUrl": "https://x.example/" + "a" * 70_000}},
            "larger than 64 KiB",
        ),
        ({"hello": 1}, "not an x402 offer, receipt"),
        ({"format": "pgp", "signature": "x"}, "unknown signature format 'pgp'"),
        ({"format": "eip712", "signature": "0x", "payload": {"x": 1}}, "neither an offer nor a receipt"),
        ({"proofType": "tx-interaction", "proofObject": {}}, "carries no x402 artifact"),
        ({"proofType": "x402-offer", "proofObject": ENVELOPE}, "expected a signed offer, found a signed receipt"),
        ({"format": "jws", "signature": "a.b"}, "3 parts"),
        ([1], "expected a JSON object"),
    ],
)
def test_loader_refusals(value: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_artifacts(value)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda c: (
            st.lists(c, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "format",
                        "signature",
                        "payload",
                        "success",
                        "extensions",
                        "offer-receipt",
                        "info",
                        "receipt",
                        "offers",
                        "proofType",
                        "proofObject",
                        "accepts",
                        "x402Version",
                        "_meta",
                    ]
                ),
                c,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
def test_loader_never_fails_other_than_cleanly_on_json(value: Any) -> None:
    try:
        for artifact in load_artifacts(json.dumps(value)):
            verify_artifact(artifact, NO_NET)
    except InputError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_loader_never_fails_other_than_cleanly_on_bytes(value: bytes | str) -> None:
    with contextlib.suppress(InputError):
        load_artifacts(value)


def verdict(envelope: dict[str, Any], options: VerifyOptions = NO_NET) -> tuple[bool, str, list[str]]:
    result = verify_artifact(load_artifacts(envelope)[0], options)
    return result.valid, result.level, result.errors


def test_the_vector_receipt_verifies_and_is_identified_by_its_digest() -> None:
    result = verify_artifact(load_artifacts(ENVELOPE)[0], NO_NET)
    assert result.valid and result.level == "signed"
    assert result.signer is not None and result.signer.address == ANVIL0
    assert result.signer.did == "did:pkh:eip155:1:" + ANVIL0.lower()
    assert result.subject == "did:web:api.example.com"
    assert result.digest == "0x060dbcfb87035bac821d6baa07fdab2ec109e6f06deaa00e037c2c1f4fbe6f8b"
    assert artifact_digest(load_artifacts(ENVELOPE)[0]) == result.digest
    high_s = {**ENVELOPE, "signature": RECEIPT_SIG[:-2] + "00"}
    assert artifact_digest(load_artifacts(high_s)[0]) == result.digest, "the digest ignores the signature bytes"


def test_tampered_payload_recovers_someone_else_and_fails_authorization_not_signature() -> None:
    tampered = {**ENVELOPE, "payload": {**RECEIPT, "payer": ANVIL0}}
    result = verify_artifact(load_artifacts(tampered)[0], NO_NET)
    assert result.signer is not None and result.signer.address != ANVIL0


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        ({**ENVELOPE, "payload": {**RECEIPT, "version": 2}}, "payload version must be 1, not 2"),
        ({**ENVELOPE, "payload": {**RECEIPT, "version": True}}, "payload version must be 1"),
        ({**ENVELOPE, "payload": {**RECEIPT, "amount": "999"}}, "fields no signature covers: amount"),
        ({**ENVELOPE, "signature": RECEIPT_SIG[:-4]}, "65 bytes of hex"),
        ({**ENVELOPE, "payload": {**RECEIPT, "resourceUrl": "not a url at all"}}, "is not a valid host name"),
    ],
)
def test_bad_eip712_receipts_are_invalid(envelope: dict[str, Any], message: str) -> None:
    valid, level, errors = verdict(envelope)
    assert (valid, level) == (False, "invalid")
    assert message in errors[0]


def test_wrong_domain_signature_recovers_a_different_signer() -> None:
    offer_domain_signature = Eip712Issuer(ANVIL0_KEY).sign_offer(OFFER)["signature"]
    result = verify_artifact(load_artifacts({**ENVELOPE, "signature": offer_domain_signature})[0], NO_NET)
    assert result.signer is not None and result.signer.address != ANVIL0


def _jws(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"\x01" * 64) -> dict[str, Any]:
    parts = [b64url_encode(json.dumps(header).encode()), b64url_encode(json.dumps(payload).encode())]
    return {"format": "jws", "signature": ".".join([*parts, b64url_encode(signature)])}


ED = ed25519.Ed25519PrivateKey.generate()
KID = did_key_from_key(ED.public_key()) + "#0"
JWS_RECEIPT = {k: v for k, v in RECEIPT.items() if k != "transaction"}


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        (_jws({"alg": "none", "kid": KID}, JWS_RECEIPT, b"x"), "algorithm 'none' is not accepted"),
        (_jws({"alg": "HS256", "kid": KID}, JWS_RECEIPT), "algorithm 'HS256' is not accepted"),
        (_jws({"alg": "RS256", "kid": KID}, JWS_RECEIPT), "algorithm 'RS256' is not accepted"),
        (_jws({"alg": "EdDSA", "kid": KID}, JWS_RECEIPT), "the JWS signature does not verify"),
        (_jws({"alg": "EdDSA"}, JWS_RECEIPT), "neither kid nor jwk"),
        (_jws({"alg": "EdDSA", "kid": KID, "crit": ["b64"]}, JWS_RECEIPT), "critical extensions"),
        (_jws({"alg": "EdDSA", "kid": "did:example:123"}, JWS_RECEIPT), "does not carry a key itself"),
        (
            _jws(
                {"alg": "EdDSA", "kid": KID, "jwk": {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes(32))}},
                JWS_RECEIPT,
            ),
            "is not the key its kid",
        ),
        (_jws({"alg": "ES256", "kid": KID}, JWS_RECEIPT), "does not match the signer's ed25519 key"),
        ({"format": "jws", "signature": "a" * 20000 + ".b.c"}, "longer than 16384 characters"),
        ({**JwsIssuer(ED, KID).sign_receipt(JWS_RECEIPT), "payload": RECEIPT}, "must not carry a payload"),
    ],
)
def test_bad_jws_receipts_are_invalid(envelope: dict[str, Any], message: str) -> None:
    try:
        loaded = load_artifacts(envelope)[0]
    except InputError as exc:
        assert message in str(exc)
        return
    result = verify_artifact(loaded, NO_NET)
    assert (result.valid, result.level) == (False, "invalid")
    assert message in result.errors[0]


def test_truncated_jws_is_refused() -> None:
    signed = JwsIssuer(ED, KID).sign_receipt(JWS_RECEIPT)["signature"]
    valid, _, errors = verdict({"format": "jws", "signature": signed[:-10]})
    assert not valid and "does not verify" in errors[0]
    with pytest.raises(InputError, match="3 parts"):
        load_artifacts({"format": "jws", "signature": signed.rsplit(".", 1)[0]})


def test_freshness_and_binding() -> None:
    future = VerifyOptions(authorize=False, now=RECEIPT["issuedAt"] - 301)  # type: ignore[operator]
    valid, level, errors = verdict(ENVELOPE, future)
    assert (valid, level) == (False, "invalid") and "in the future" in errors[0]
    skew_ok = VerifyOptions(authorize=False, now=RECEIPT["issuedAt"] - 299)  # type: ignore[operator]
    assert verdict(ENVELOPE, skew_ok)[0]
    old = VerifyOptions(authorize=False, now=1703123456 + 7200, max_age_s=3600)
    assert "older than the 3600 s allowed" in verdict(ENVELOPE, old)[2][0]
    bound = VerifyOptions(
        authorize=False,
        now=1703123500,
        expected_subject="did:web:api.example.com",
        expected_payer=RECEIPT["payer"].lower(),  # type: ignore[union-attr]
    )
    assert verdict(ENVELOPE, bound)[:2] == (True, "signed")
    wrong = VerifyOptions(
        authorize=False, now=1703123500, expected_subject="did:web:other.example", expected_payer=ANVIL0
    )
    valid, level, errors = verdict(ENVELOPE, wrong)
    assert (valid, level) == (False, "invalid")
    assert "the receipt is for did:web:api.example.com, the review is of did:web:other.example" in errors[0]
    assert f"the receipt's payer {RECEIPT['payer']} is not the attester {ANVIL0}" in errors[0]


def test_pay_to_authorization_needs_a_signed_offer_by_the_same_signer() -> None:
    issuer = Eip712Issuer(ANVIL0_KEY)
    offer = issuer.sign_offer({**OFFER, "payTo": ANVIL0})
    receipt = issuer.sign_receipt(RECEIPT)
    with_offer = VerifyOptions(offers=load_artifacts(offer), now=1703123500, resolver=None)
    with_offer.authorize = True
    from omareview.identity import DidWebResolver, SafeFetcher

    offline = DidWebResolver(fetcher=SafeFetcher(overrides={"api.example.com": "http://127.0.0.1:9"}, timeout_s=0.5))
    with_offer.resolver = offline
    result = verify_artifact(load_artifacts(receipt)[0], with_offer)
    assert (result.authorization.status, result.authorization.method, result.level) == (
        "authorized",
        "pay-to",
        "verified",
    )
    stranger_offer = Eip712Issuer("0x" + "11" * 32).sign_offer({**OFFER, "payTo": ANVIL0})
    other = VerifyOptions(
        offers=load_artifacts(stranger_offer), now=1703123500, resolver=offline, dns_server="127.0.0.1:9"
    )
    result = verify_artifact(load_artifacts(receipt)[0], other)
    assert result.authorization.status == "unknown" and result.level == "signed"


def test_issuing_helpers() -> None:
    issuer = Eip712Issuer(ANVIL0_KEY)
    assert "ac0974" not in repr(issuer)
    assert to_caip2("base-sepolia") == "eip155:84532" and to_caip2("solana").startswith("solana:")
    with pytest.raises(InputError, match="unknown x402 network 'narnia'"):
        to_caip2("narnia")
    signed = sign_payment_required(
        issuer, PAYMENT_REQUIRED | {"accepts": [{**PAYMENT_REQUIRED["accepts"][0], "asset": "0xA", "payTo": ANVIL0}]}
    )  # type: ignore[operator]
    (offer,) = load_artifacts(signed)
    assert offer.envelope["acceptIndex"] == 0 and offer.envelope["payload"]["payTo"] == ANVIL0
    settled = sign_settle_response(issuer, SETTLE | {"extensions": {}}, "https://api.example.com/premium-data?q=1")
    (receipt,) = load_artifacts(encode_header(settled))
    payload = receipt.envelope["payload"]
    assert payload["transaction"] == SETTLE["transaction"] and payload["resourceUrl"].endswith("?q=1")
    assert sign_settle_response(issuer, {"success": False}, "https://x") == {"success": False}
    with pytest.raises(InputError, match="names no payer or network"):
        sign_settle_response(issuer, {"success": True}, "https://x")
    with pytest.raises(InputError, match="payment requirements lack payTo"):
        offer_payload("https://x", {"scheme": "exact", "network": "base", "asset": "a", "amount": "1"})
    assert "transaction" not in receipt_payload("https://x", ANVIL0, "base")
