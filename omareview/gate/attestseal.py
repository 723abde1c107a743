"""AttestSeal `X-AttestSeal-*` headers as advisory evidence (spec v0.1.0-draft, sections 4 to 8).

Verified over the published spec's canonical form: the 14-key attestation object as sorted-key compact JSON
(Python `json.dumps(..., sort_keys=True, separators=(",", ":"))`, ASCII-escaped, not RFC 8785), SHA-256 of
it, and an Ed25519 signature over those 32 bytes, sent as `"M"` + padded base64. The issuer's key comes from
its did:web document, as `publicKeyMultibase` in the spec's `"M"` raw-key encoding or the standard `z`
base58btc multicodec. AttestSeal's own server signs a different object (no issuer or times, with
signals/flags), so headers it passes through report `bad-signature` here; that is why a policy may only
consult this evidence, never require it.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from omareview._wire import WireModel
from omareview.errors import InputError
from omareview.identity.didweb import DidWebResolver, find_verification_method
from omareview.identity.fetch import FetchError
from omareview.identity.keys import key_from_multibase

__all__ = [
    "PREFIX",
    "RECOMMENDATIONS",
    "REQUIRED",
    "SealResult",
    "SealStatus",
    "canonical_object",
    "seal_headers",
    "sign_seal",
    "signing_digest",
    "verify_seal",
]

PREFIX = "x-attestseal-"
REQUIRED = (
    "issuer",
    "domain",
    "score",
    "recommendation",
    "confidence",
    "assurance-basis",
    "issued-at",
    "expires-at",
    "scoring-model",
    "signature",
    "key-id",
)
RECOMMENDATIONS = ("PROCEED", "CAUTION", "DENY")
SealStatus = Literal["verified", "bad-signature", "expired", "domain-mismatch", "unknown-issuer", "malformed"]


class SealResult(WireModel):
    status: SealStatus
    detail: str
    issuer: str | None = None
    recommendation: str | None = None
    score: int | None = None
    expires_at: str | None = None


def seal_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The `X-AttestSeal-*` headers, keyed by their lowercase suffix (`issuer`, `domain`, …)."""
    return {k.lower()[len(PREFIX) :]: v.strip() for k, v in headers.items() if k.lower().startswith(PREFIX)}


def _time(value: str) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no time zone")
    return parsed


def canonical_object(seal: Mapping[str, str]) -> dict[str, object]:
    """The spec's §5 attestation object rebuilt from the headers (absent optionals: null, or false)."""
    return {
        "domain": seal["domain"],
        "issuer": seal["issuer"],
        "issuedAt": seal["issued-at"],
        "expiresAt": seal["expires-at"],
        "trustScore": int(seal["score"]),
        "recommendation": seal["recommendation"],
        "confidence": seal["confidence"],
        "assuranceBasis": seal["assurance-basis"],
        "scoringModel": seal["scoring-model"],
        "siteCategory": seal.get("site-category"),
        "cautionReason": seal.get("caution-reason"),
        "parentCompany": seal.get("parent-company"),
        "parentFloorInherited": seal.get("parent-floor-inherited", "false").lower() == "true",
        "agentPolicyHint": seal.get("agent-policy-hint"),
    }


def signing_digest(seal: Mapping[str, str]) -> bytes:
    text = json.dumps(canonical_object(seal), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).digest()


def _issuer_key(value: str) -> ed25519.Ed25519PublicKey:
    if value.startswith("M"):
        raw = base64.b64decode(value[1:], validate=True)
        if len(raw) != 32:
            raise InputError("the issuer's M-encoded key is not 32 bytes", reason="bad-seal")
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    key = key_from_multibase(value)
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise InputError("the issuer's key is not Ed25519", reason="bad-seal")
    return key


def verify_seal(
    headers: Mapping[str, str],
    request_host: str,
    *,
    trusted_issuers: Sequence[str],
    resolver: DidWebResolver,
    now: datetime.datetime | None = None,
) -> SealResult | None:
    """Judge the AttestSeal headers of a response; None when it carries none."""
    seal = seal_headers(headers)
    if not seal:
        return None
    missing = [name for name in REQUIRED if not seal.get(name)]
    if missing:
        return SealResult(status="malformed", detail=f"missing X-AttestSeal-{', X-AttestSeal-'.join(missing)}")
    try:
        score = int(seal["score"])
        expires = _time(seal["expires-at"])
        _time(seal["issued-at"])
        if not 0 <= score <= 100 or seal["recommendation"] not in RECOMMENDATIONS:
            raise ValueError("score or recommendation out of range")
        signature = seal["signature"]
        if not signature.startswith("M"):
            raise ValueError("the signature is not M-multibase")
        raw_signature = base64.b64decode(signature[1:], validate=True)
    except (ValueError, binascii.Error) as exc:
        return SealResult(status="malformed", detail=f"unreadable AttestSeal headers ({exc})")
    common = {
        "issuer": seal["issuer"],
        "recommendation": seal["recommendation"],
        "score": score,
        "expires_at": seal["expires-at"],
    }
    if seal["issuer"] not in trusted_issuers:
        return SealResult(
            status="unknown-issuer", detail=f"{seal['issuer']} is not a trusted AttestSeal issuer", **common
        )
    if seal["domain"].lower() != request_host.lower():
        return SealResult(
            status="domain-mismatch",
            detail=f"the seal is for {seal['domain']}, the 402 came from {request_host}",
            **common,
        )
    if expires <= (now or datetime.datetime.now(datetime.UTC)):
        return SealResult(status="expired", detail=f"the seal expired at {seal['expires-at']}", **common)
    key_id = seal["key-id"]
    if not key_id.startswith(seal["issuer"] + "#"):
        return SealResult(status="malformed", detail=f"key {key_id} is not the issuer's", **common)
    try:
        method = find_verification_method(resolver.resolve(seal["issuer"]), key_id)
        key = _issuer_key(str(method.get("publicKeyMultibase", "")))
    except FetchError as exc:
        return SealResult(
            status="unknown-issuer", detail=f"the issuer's DID document could not be read: {exc}", **common
        )
    except (InputError, ValueError, binascii.Error) as exc:
        return SealResult(status="malformed", detail=f"the issuer's key is unusable: {exc}", **common)
    try:
        key.verify(raw_signature, signing_digest(seal))
    except InvalidSignature:
        return SealResult(
            status="bad-signature", detail="the signature does not verify over the spec's canonical form", **common
        )
    return SealResult(
        status="verified", detail=f"{seal['recommendation']} (score {score}) from {seal['issuer']}", **common
    )


def sign_seal(fields: Mapping[str, str], key: ed25519.Ed25519PrivateKey) -> dict[str, str]:
    """Headers for an attestation signed in the spec form (used to test verifiers, including this one)."""
    seal = {name.lower(): value for name, value in fields.items()}
    signature = "M" + base64.b64encode(key.sign(signing_digest(seal))).decode("ascii")
    return {f"X-AttestSeal-{name.title()}": value for name, value in {**seal, "signature": signature}.items()}
