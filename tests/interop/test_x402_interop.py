"""Interop in both directions with the TypeScript reference, @x402/extensions/offer-receipt."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from omareview.identity import DidWebResolver, SafeFetcher, did_jwk_from_key, did_key_from_key, public_key_to_jwk
from omareview.x402 import (
    DidKey,
    Eip712Issuer,
    JwsIssuer,
    VerifyOptions,
    did_document,
    load_artifacts,
    offer_payload,
    receipt_payload,
    verify_artifact,
)
from tests.helpers import run_node
from tests.servers import Reply, http_server

ANVIL0_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
PAYER = "0x857b06519E91e3A54538791bDbb0E22373e36b66"
RESOURCE = "https://api.example.com/premium-data"
REQUIREMENTS = {
    "scheme": "exact",
    "network": "eip155:8453",
    "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
    "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
    "amount": "10000",
}


def _serve_did_web(host_port: str, port: int, keys: list[dict[str, Any]]) -> dict[str, Reply]:
    did = f"did:web:{host_port}"
    methods = [{"id": k["kid"], "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": k["jwk"]} for k in keys]
    doc = {"id": did, "verificationMethod": methods, "assertionMethod": [m["id"] for m in methods]}
    return {
        "/.well-known/did.json": Reply(body=json.dumps(doc).encode(), headers={"Content-Type": "application/did+json"})
    }


def test_artifacts_signed_by_the_reference_verify_here() -> None:
    routes: dict[str, Reply] = {}
    with http_server(routes) as server:  # type: ignore[arg-type]
        host = f"127.0.0.1%3A{server.port}"
        signed = run_node(
            "x402_reference.mjs",
            {
                "action": "sign",
                "didWebHost": host,
                "resourceUrl": RESOURCE,
                "offer": REQUIREMENTS,
                "receipt": {"resourceUrl": RESOURCE, "payer": PAYER, "network": "eip155:8453"},
            },
        )
        routes.update(_serve_did_web(host, server.port, [j for j in signed["jws"] if j["method"] == "did:web"]))
        resolver = DidWebResolver(fetcher=SafeFetcher(overrides={"127.0.0.1": server.base_url}))
        options = VerifyOptions(authorize=False, resolver=resolver)

        receipt = verify_artifact(load_artifacts(signed["eip712"]["receipt"])[0], options)
        assert receipt.valid, receipt.errors
        assert receipt.signer is not None and receipt.signer.address == ANVIL0 == signed["eip712"]["address"]
        assert receipt.payload == signed["eip712"]["receipt"]["payload"]
        offer = verify_artifact(load_artifacts(signed["eip712"]["offer"])[0], options)
        assert offer.valid and offer.kind == "offer" and offer.signer is not None and offer.signer.address == ANVIL0

        assert len(signed["jws"]) == 9
        for item in signed["jws"]:
            for kind in ("receipt", "offer"):
                result = verify_artifact(load_artifacts(item[kind])[0], options)
                assert result.valid, (item["alg"], item["method"], kind, result.errors)
                assert result.kind == kind
                assert result.signer is not None and result.signer.kid == item["kid"]
                assert result.subject == "did:web:api.example.com"


def _python_jws_issuers(did_web: str) -> list[tuple[str, JwsIssuer]]:
    issuers = []
    for name, private in (
        ("ES256K", ec.generate_private_key(ec.SECP256K1())),
        ("ES256", ec.generate_private_key(ec.SECP256R1())),
        ("EdDSA", ed25519.Ed25519PrivateKey.generate()),
    ):
        public = private.public_key()
        issuers.append((f"{name}/did:key", JwsIssuer(private, did_key_from_key(public) + "#0")))
        issuers.append((f"{name}/did:jwk", JwsIssuer(private, did_jwk_from_key(public) + "#0")))
        issuers.append((f"{name}/did:web", JwsIssuer(private, f"{did_web}#{name.lower()}")))
    return issuers


def test_artifacts_signed_here_verify_with_the_reference() -> None:
    routes: dict[str, Reply] = {}
    with http_server(routes) as server:  # type: ignore[arg-type]
        did_web = f"did:web:127.0.0.1%3A{server.port}"
        issuers = _python_jws_issuers(did_web)
        web_keys = [DidKey(i.kid.split("#")[1], i.public_key) for label, i in issuers if label.endswith("did:web")]
        doc = did_document(did_web, web_keys)
        routes["/.well-known/did.json"] = Reply(body=json.dumps(doc).encode())
        eip = Eip712Issuer(ANVIL0_KEY)
        receipt = receipt_payload(RESOURCE, PAYER, "base", issued_at=1703123456)
        offer = offer_payload(RESOURCE, REQUIREMENTS, now=1703123456)
        items: list[dict[str, Any]] = [
            {"kind": "receipt", "envelope": eip.sign_receipt(receipt)},
            {"kind": "offer", "envelope": eip.sign_offer(offer, accept_index=0)},
        ]
        for _, issuer in issuers:
            items.append({"kind": "receipt", "envelope": issuer.sign_receipt(receipt)})
            items.append({"kind": "offer", "envelope": issuer.sign_offer(offer)})
        results = run_node("x402_reference.mjs", {"action": "verify", "items": items})
    assert [r["ok"] for r in results] == [True] * len(items), [r.get("error") for r in results]
    assert results[0]["signer"] == ANVIL0 and results[1]["signer"] == ANVIL0
    assert results[0]["payload"]["network"] == "eip155:8453", "v1 network names are converted before signing"
    for result in results[2:]:
        assert result["payload"]["resourceUrl"] == RESOURCE
        assert "transaction" not in result["payload"] or result["payload"].get("transaction") == ""


def test_the_reference_rejects_what_we_tampered_with() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    envelope = JwsIssuer(private, did_key_from_key(private.public_key()) + "#0").sign_receipt(
        receipt_payload(RESOURCE, PAYER, "eip155:8453")
    )
    header, payload, signature = envelope["signature"].split(".")
    forged_payload = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged_payload["payer"] = ANVIL0
    forged = base64.urlsafe_b64encode(json.dumps(forged_payload).encode()).rstrip(b"=").decode()
    tampered = {"format": "jws", "signature": f"{header}.{forged}.{signature}"}
    eip = Eip712Issuer(ANVIL0_KEY).sign_receipt(receipt_payload(RESOURCE, PAYER, "eip155:8453"))
    eip["payload"]["payer"] = ANVIL0
    results = run_node(
        "x402_reference.mjs",
        {
            "action": "verify",
            "items": [{"kind": "receipt", "envelope": tampered}, {"kind": "receipt", "envelope": eip}],
        },
    )
    assert results[0]["ok"] is False
    assert results[1]["ok"] is True and results[1]["signer"] != ANVIL0, "a tampered EIP-712 payload recovers a stranger"
    ours = [verify_artifact(load_artifacts(e)[0], VerifyOptions(authorize=False)) for e in (tampered, eip)]
    assert ours[0].valid is False and "does not verify" in ours[0].errors[0]
    assert ours[1].signer is not None and ours[1].signer.address == results[1]["signer"]


@pytest.mark.parametrize("include_jwk", [True, False])
def test_jwk_header_is_honoured(include_jwk: bool) -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    issuer = JwsIssuer(private, did_key_from_key(private.public_key()) + "#0", include_jwk=include_jwk)
    envelope = issuer.sign_receipt(receipt_payload(RESOURCE, PAYER, "eip155:8453"))
    result = verify_artifact(load_artifacts(envelope)[0], VerifyOptions(authorize=False))
    assert result.valid
    assert result.signer is not None and result.signer.did == did_jwk_from_key(private.public_key())
    header = json.loads(base64.urlsafe_b64decode(envelope["signature"].split(".")[0] + "=="))
    assert ("jwk" in header) is include_jwk
    if include_jwk:
        assert header["jwk"] == public_key_to_jwk(private.public_key())
