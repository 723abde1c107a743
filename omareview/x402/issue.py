"""The issuing side, for Python x402 servers: sign offers and receipts and place them where clients look.

EIP-712 issuers sign with an EVM key; JWS issuers with an Ed25519, P-256 or secp256k1 key under a `kid`
(a DID URL the client can resolve: did:web, did:key or did:jwk). Payloads follow the reference server:
offers carry `validUntil` (now + validity), EIP-712 receipts carry `transaction` ("" when absent) while JWS
receipts omit it when absent.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import coincurve
from pydantic import ValidationError

from omareview._eip712 import sign_digest
from omareview._hashing import address_of_point
from omareview._json import JsonMapping, JsonObject
from omareview.errors import InputError
from omareview.identity.jws import PrivateKey, sign_compact
from omareview.identity.keys import PublicKey, public_key_to_jwk
from omareview.x402 import eip712
from omareview.x402.caip2 import to_caip2
from omareview.x402.load import OFFER_RECEIPT
from omareview.x402.required import PaymentRequirement
from omareview.x402.wire import OfferPayload, ReceiptPayload

__all__ = [
    "DEFAULT_OFFER_VALIDITY_S",
    "DidKey",
    "Eip712Issuer",
    "Issuer",
    "JwsIssuer",
    "did_document",
    "encode_header",
    "offer_payload",
    "offer_receipt_extension",
    "receipt_payload",
    "sign_payment_required",
    "sign_settle_response",
]

DEFAULT_OFFER_VALIDITY_S = 300

_INFO_SCHEMA: JsonObject = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "offers": {"type": "array", "items": {"type": "object", "required": ["format", "signature"]}},
        "receipt": {"type": "object", "required": ["format", "signature"]},
    },
}


def offer_payload(
    resource_url: str,
    requirements: PaymentRequirement | Mapping[str, object],
    *,
    valid_for_s: int | None = None,
    now: int | None = None,
) -> OfferPayload:
    """The offer payload for one `accepts[]` entry (v2 `amount` or v1 `maxAmountRequired`)."""
    try:
        terms = (
            requirements
            if isinstance(requirements, PaymentRequirement)
            else PaymentRequirement.model_validate(requirements)
        )
    except ValidationError as exc:
        raise InputError(f"payment requirements do not read: {exc.errors()[0]['msg']}", reason="cannot-issue") from None
    given = {"scheme": terms.scheme, "network": terms.network, "asset": terms.asset, "payTo": terms.pay_to}
    missing = [name for name, value in given.items() if not value]
    if missing or terms.amount is None:
        raise InputError(f"payment requirements lack {', '.join(missing or ['amount'])}", reason="cannot-issue")
    validity = valid_for_s if valid_for_s is not None else terms.max_timeout_seconds or None
    issued = int(time.time()) if now is None else now
    return {
        "version": 1,
        "resourceUrl": resource_url,
        "scheme": str(terms.scheme),
        "network": to_caip2(str(terms.network)),
        "asset": str(terms.asset),
        "payTo": str(terms.pay_to),
        "amount": terms.amount,
        "validUntil": issued + (validity or DEFAULT_OFFER_VALIDITY_S),
    }


def receipt_payload(
    resource_url: str, payer: str, network: str, *, transaction: str | None = None, issued_at: int | None = None
) -> ReceiptPayload:
    """A receipt payload; `transaction` is left out unless given (the privacy-minimal default)."""
    payload: ReceiptPayload = {
        "version": 1,
        "network": to_caip2(network),
        "resourceUrl": resource_url,
        "payer": payer,
        "issuedAt": int(time.time()) if issued_at is None else issued_at,
    }
    if transaction:
        payload["transaction"] = transaction
    return payload


class Issuer:
    """Signs offers and receipts. Subclasses choose the format."""

    format: Literal["eip712", "jws"]

    def sign_offer(self, payload: JsonMapping, accept_index: int | None = None) -> JsonObject:
        envelope = self._sign("offer", dict(payload))
        if accept_index is not None:
            envelope["acceptIndex"] = accept_index
        return envelope

    def sign_receipt(self, payload: JsonMapping) -> JsonObject:
        return self._sign("receipt", dict(payload))

    def _sign(self, kind: eip712.ArtifactKind, payload: JsonObject) -> JsonObject:
        raise NotImplementedError


class Eip712Issuer(Issuer):
    """Signs offers and receipts as EIP-712 with an EVM private key. The key never leaves this object.

    Parameters:
        private_key: the key, as hex or 32 bytes.
    """

    format = "eip712"

    def __init__(self, private_key: str | bytes) -> None:
        try:
            raw = bytes.fromhex(private_key.removeprefix("0x")) if isinstance(private_key, str) else bytes(private_key)
            public = coincurve.PrivateKey(raw).public_key.format(compressed=False)
        except ValueError:
            raise InputError("the signing key is not a 32-byte secp256k1 private key", reason="cannot-issue") from None
        self.address: str = address_of_point(public)
        self.__key = raw

    def __repr__(self) -> str:
        return f"Eip712Issuer(address={self.address})"

    def _sign(self, kind: eip712.ArtifactKind, payload: JsonObject) -> JsonObject:
        for name, default in eip712.OPTIONAL_DEFAULTS[kind].items():
            payload.setdefault(name, default)
        signature = sign_digest(eip712.digest(kind, payload), self.__key)
        return {"format": "eip712", "payload": payload, "signature": signature}


class JwsIssuer(Issuer):
    """Signs offers and receipts as compact JWS with a `cryptography` private key under `kid`.

    Parameters:
        private_key: an Ed25519, secp256k1 or P-256 private key.
        kid: the DID URL of the key, put in the JWS header.
        include_jwk: also put the public JWK in the header.
    """

    format = "jws"

    def __init__(self, private_key: PrivateKey, kid: str, *, include_jwk: bool = False) -> None:
        self.kid = kid
        self.public_key: PublicKey = private_key.public_key()
        self.__key = private_key
        self._include_jwk = include_jwk

    def __repr__(self) -> str:
        return f"JwsIssuer(kid={self.kid!r})"

    def _sign(self, kind: eip712.ArtifactKind, payload: JsonObject) -> JsonObject:
        eip712.struct_hash(kind, payload)
        return {
            "format": "jws",
            "signature": sign_compact(payload, self.__key, self.kid, include_jwk=self._include_jwk),
        }


def offer_receipt_extension(
    *, offers: Sequence[JsonMapping] | None = None, receipt: JsonMapping | None = None
) -> JsonObject:
    """The `extensions["offer-receipt"]` block for a PaymentRequired (offers) or SettleResponse (receipt)."""
    info: JsonObject = {}
    if offers is not None:
        info["offers"] = [dict(o) for o in offers]
    if receipt is not None:
        info["receipt"] = dict(receipt)
    return {OFFER_RECEIPT: {"info": info, "schema": _INFO_SCHEMA}}


def sign_payment_required(issuer: Issuer, payment_required: JsonMapping) -> JsonObject:
    """A copy of a PaymentRequired (v2, or a v1 402 body) with one signed offer per `accepts[]` entry."""
    resource = payment_required.get("resource")
    accepts = payment_required.get("accepts") or []
    offers = []
    for index, requirements in enumerate(accepts):
        url = resource.get("url") if isinstance(resource, Mapping) else requirements.get("resource")
        if not url:
            raise InputError(f"accepts[{index}] has no resource URL to sign", reason="cannot-issue")
        offers.append(issuer.sign_offer(offer_payload(str(url), requirements), accept_index=index))
    signed = dict(payment_required)
    signed["extensions"] = {**(payment_required.get("extensions") or {}), **offer_receipt_extension(offers=offers)}
    return signed


def sign_settle_response(issuer: Issuer, settle_response: JsonMapping, resource_url: str) -> JsonObject:
    """A copy of a successful SettleResponse with a signed receipt; a failed one is returned unchanged."""
    if not settle_response.get("success"):
        return dict(settle_response)
    payer, network = settle_response.get("payer"), settle_response.get("network")
    if not payer or not network:
        raise InputError(
            "the settlement response names no payer or network, so no receipt can be signed", reason="cannot-issue"
        )
    transaction = settle_response.get("transaction") or None
    payload = receipt_payload(resource_url, str(payer), str(network), transaction=transaction)
    signed = dict(settle_response)
    extensions = {**(settle_response.get("extensions") or {})}
    signed["extensions"] = {**extensions, **offer_receipt_extension(receipt=issuer.sign_receipt(payload))}
    return signed


def encode_header(message: JsonMapping) -> str:
    """The base64 value of a `PAYMENT-REQUIRED` / `PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE` header."""
    return base64.b64encode(json.dumps(message, separators=(",", ":")).encode("utf-8")).decode("ascii")


@dataclass(frozen=True)
class DidKey:
    """One key to publish in a DID document: its fragment and its public key (or EVM address).

    Parameters:
        fragment: the verification method's fragment (`#key-1`).
        public_key: the public key, for JWS signers.
        address: the EVM address, for EIP-712 signers.
    """

    fragment: str
    public_key: PublicKey | None = None
    address: str | None = None


def did_document(did: str, keys: Sequence[DidKey]) -> JsonObject:
    """A `/.well-known/did.json` for a server: each key as JsonWebKey2020 (`publicKeyJwk`) or, for an EVM
    address, EcdsaSecp256k1RecoveryMethod2020 (`blockchainAccountId`), all listed under assertionMethod."""
    methods: list[JsonObject] = []
    for key in keys:
        method: JsonObject = {"id": f"{did}#{key.fragment}", "controller": did}
        if key.public_key is not None:
            method.update(type="JsonWebKey2020", publicKeyJwk=public_key_to_jwk(key.public_key))
        elif key.address is not None:
            method.update(type="EcdsaSecp256k1RecoveryMethod2020", blockchainAccountId=f"eip155:1:{key.address}")
        else:
            raise InputError(f"key #{key.fragment} has neither a public key nor an address", reason="cannot-issue")
        methods.append(method)
    ids = [m["id"] for m in methods]
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": ids,
    }
