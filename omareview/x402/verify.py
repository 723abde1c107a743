"""Verifying offers and receipts: signature, binding, authorization, freshness → a level (SPEC §2).

A result never raises for a bad artifact: what failed is in `errors` and the level is `invalid`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from omareview._eip712 import recover_signer
from omareview._json import JsonObject
from omareview._wire import WireModel
from omareview.errors import FetchError, InputError
from omareview.identity.dids import subject_did_from_url, web_domain
from omareview.identity.jws import parse_compact, verify_signature
from omareview.identity.keys import (
    PublicKey,
    did_jwk_from_key,
    did_pkh_from_address,
    jwk_to_public_key,
    key_from_did,
    keys_equal,
)
from omareview.identity.verdict import (
    Authorization,
    AuthorizationCache,
    SignerIdentity,
    SignerInfo,
    authorization_cache,
)
from omareview.x402 import eip712
from omareview.x402.eip712 import FIELDS, ArtifactKind
from omareview.x402.load import LoadedArtifact

if TYPE_CHECKING:
    from omareview.identity.didweb import DidWebResolver
    from omareview.identity.graph import IdentityGraph, WitnessIssuers

__all__ = [
    "CLOCK_SKEW_S",
    "Check",
    "Level",
    "SignerInfo",
    "VerificationResult",
    "VerifyOptions",
    "artifact_digest",
    "verify_artifact",
]

CLOCK_SKEW_S = 300
Level = Literal["verified", "signed", "invalid"]


class Check(WireModel):
    """One check of a verification. A failed check carries a stable `reason` code beside its detail; a
    binding made through a Linked Identifier names it in `link`."""

    json_exclude_none = True

    status: Literal["ok", "failed", "not-checked"]
    detail: str = ""
    reason: str | None = None
    link: str | None = None


class VerificationResult(WireModel):
    """The verification of one signed offer or receipt.

    Attributes:
        valid: signature, binding and freshness hold and no source refuses the signer.
        kind: `offer` or `receipt`.
        format: `eip712` or `jws`.
        level: `verified`, `signed` or `invalid`.
        signer: who signed (address, or `kid` and DID).
        payload: the signed payload.
        subject: the subject DID of its `resourceUrl`.
        digest: the artifact's digest (its identity across envelopes).
        authorization: whether the signer is authorized for the subject.
        freshness: the `issuedAt` check.
        binding: the check against the review's subject and attester.
        errors: why it is not valid, for a person.
        reasons: the same as stable codes.
        source: where the artifact was found.
    """

    json_exclude_none = True

    valid: bool
    kind: ArtifactKind
    format: str
    level: Level
    signer: SignerInfo | None = None
    payload: JsonObject | None = None
    subject: str | None = None
    digest: str | None = None
    authorization: Authorization
    freshness: Check
    binding: Check
    errors: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    source: str = ""


@dataclass
class VerifyOptions:
    """Policy for one verification.

    Parameters:
        authorize: check signer authorization.
        offers: signed offers that may authorize a receipt's signer by `payTo`.
        expected_subject: the review's subject, to bind the artifact to.
        expected_payer: the review's attester, to bind the receipt's payer to.
        max_age_s: refuse receipts older than this.
        clock_skew_s: how far in the future `issuedAt` may be.
        now: the time to judge at (None: now).
        resolver: the did:web resolver (None: the default, guarded one).
        dns_server: a DNS server for TXT look-ups (None: the system's).
        authorization_cache: the live sources' answers, failures included, reused by every verification made
            with these options (one look-up per signer and domain per run; None: no cache).
        graph: OMATrust's identity attestations (key bindings, witnesses), judged as of each receipt's
            `issuedAt` (None: the live sources only).
        witnesses: the witness issuers whose Controller Witnesses count.
        payer_link: for a receipt whose payer is not the review's attester: the UID of a Linked Identifier
            binding the two, given (payer, time), or None.
    """

    authorize: bool = True
    offers: Sequence[LoadedArtifact] = ()
    expected_subject: str | None = None
    expected_payer: str | None = None
    max_age_s: int | None = None
    clock_skew_s: int = CLOCK_SKEW_S
    now: int | None = None
    resolver: DidWebResolver | None = None
    dns_server: str | None = None
    authorization_cache: AuthorizationCache | None = field(default_factory=authorization_cache)
    graph: IdentityGraph | None = None
    witnesses: WitnessIssuers | None = None
    payer_link: Callable[[str, int], str | None] | None = None


_SIGNED: dict[ArtifactKind, frozenset[str]] = {kind: frozenset(name for name, _ in FIELDS[kind]) for kind in FIELDS}


@dataclass(frozen=True)
class _Signature:
    payload: JsonObject
    digest: bytes
    signer: SignerInfo
    identity: SignerIdentity


def _check_version(payload: JsonObject) -> None:
    version = payload.get("version")
    if isinstance(version, bool) or version != 1:
        raise InputError(f"payload version must be 1, not {version!r}", reason="bad-artifact")


def _eip712_signature(kind: ArtifactKind, envelope: JsonObject) -> _Signature:
    payload = envelope.get("payload")
    if not isinstance(payload, dict):
        raise InputError("an eip712 artifact must carry its payload object", reason="bad-artifact")
    _check_version(payload)
    if not payload.keys() <= _SIGNED[kind]:
        unsigned = sorted(set(payload) - _SIGNED[kind])
        raise InputError(
            f"the {kind} payload has fields no signature covers: {', '.join(unsigned)}", reason="bad-artifact"
        )
    digest = eip712.digest(kind, payload)
    address = recover_signer(digest, envelope["signature"])
    return _Signature(payload, digest, _evm_signer(address), address)


@lru_cache(maxsize=1024)
def _evm_signer(address: str) -> SignerInfo:
    """Shared, as results are frozen: a batch's receipts come from a few signers."""
    return SignerInfo(address=address, did=did_pkh_from_address(address))


def _resolver(options: VerifyOptions) -> DidWebResolver:
    """The did:web resolver, loaded only when a JWS key must be resolved (a signature check of an EIP-712
    artifact needs none, and the resolver brings DNS and HTTP)."""
    if options.resolver is not None:
        return options.resolver
    from omareview.identity.authorization import default_resolver

    return default_resolver()


def _kid_key(kid: str, options: VerifyOptions) -> PublicKey:
    if kid.lower().startswith("did:web:"):
        from omareview.identity.didweb import find_verification_method, method_public_key

        method = find_verification_method(_resolver(options).resolve(kid), kid)
        key = method_public_key(method)
        if key is None:
            raise InputError(f"the verification method {kid} publishes no public key", reason="bad-artifact")
        return key
    return key_from_did(kid)


def _jws_signature(kind: ArtifactKind, envelope: JsonObject, options: VerifyOptions) -> _Signature:
    if "payload" in envelope:
        raise InputError("a jws artifact must not carry a payload beside its signature", reason="bad-artifact")
    parsed = parse_compact(envelope["signature"])
    kid, jwk = parsed.header.get("kid"), parsed.header.get("jwk")
    if kid is not None and not isinstance(kid, str):
        raise InputError("the JWS kid must be a string", reason="bad-artifact")
    if kid is None and jwk is None:
        raise InputError("the JWS header has neither kid nor jwk, so its key is unknown", reason="bad-artifact")
    embedded = jwk_to_public_key(jwk) if jwk is not None else None
    key = embedded
    if kid is not None:
        try:
            resolved = _kid_key(kid, options)
        except (InputError, FetchError):
            if embedded is None:
                raise
        else:
            if embedded is not None and not keys_equal(embedded, resolved):
                raise InputError(f"the JWS jwk is not the key its kid {kid} names", reason="bad-artifact")
            key = resolved
    if key is None:
        raise InputError("the JWS names no key: neither a kid nor a jwk", reason="bad-jws")
    verify_signature(parsed, key)
    _check_version(parsed.payload)
    eip712.struct_hash(kind, parsed.payload)
    signer = SignerInfo(kid=kid, did=did_jwk_from_key(key))
    return _Signature(parsed.payload, parsed.digest, signer, key)


def _signature(artifact: LoadedArtifact, options: VerifyOptions) -> _Signature:
    if artifact.envelope.get("format") == "eip712":
        return _eip712_signature(artifact.kind, artifact.envelope)
    return _jws_signature(artifact.kind, artifact.envelope, options)


def _pay_to_for(signed: _Signature, subject: str, options: VerifyOptions) -> str | None:
    """The payTo of a signed offer, by the same signer, for the same host: evidence of authorization."""
    if signed.signer.address is None:
        return None
    for offer in options.offers:
        try:
            offer_signed = _signature(offer, options)
        except InputError:
            continue
        same_host = subject_did_from_url(str(offer_signed.payload["resourceUrl"])) == subject
        if same_host and offer_signed.signer.address == signed.signer.address:
            return str(offer_signed.payload["payTo"])
    return None


def _freshness(kind: ArtifactKind, payload: JsonObject, options: VerifyOptions) -> Check:
    if kind == "offer":
        return Check(status="not-checked", detail="offers prove terms; their expiry does not void them afterwards")
    now = options.now if options.now is not None else int(time.time())
    issued_at = int(payload["issuedAt"])
    if issued_at > now + options.clock_skew_s:
        return Check(
            status="failed",
            detail=f"issuedAt {issued_at} is {issued_at - now} s in the future",
            reason="issued-in-future",
        )
    if options.max_age_s is not None and now - issued_at > options.max_age_s:
        return Check(
            status="failed",
            detail=f"issued {now - issued_at} s ago, older than the {options.max_age_s} s allowed",
            reason="too-old",
        )
    return Check(status="ok", detail=f"issued {max(now - issued_at, 0)} s ago")


def _binding(kind: ArtifactKind, payload: JsonObject, subject: str, options: VerifyOptions) -> Check:
    problems = []
    reason = None
    linked = None
    if kind == "receipt" and options.expected_payer is not None:
        payer = str(payload["payer"])
        if payer.lower() != options.expected_payer.lower():
            at = options.now if options.now is not None else int(time.time())
            linked = options.payer_link(payer, at) if options.payer_link is not None else None
            if linked is None:
                problems.append(f"the receipt's payer {payer} is not the attester {options.expected_payer}")
                reason = "payer-not-attester"
    if options.expected_subject is not None and options.expected_subject != subject:
        problems.insert(0, f"the {kind} is for {subject}, the review is of {options.expected_subject}")
        reason = "wrong-subject"
    if problems:
        return Check(status="failed", detail="; ".join(problems), reason=reason)
    if options.expected_subject is None and options.expected_payer is None:
        return _UNBOUND
    if linked is not None:
        return Check(
            status="ok", detail=f"the payer is linked to the attester by Linked Identifier {linked}", link=linked
        )
    return _BOUND


# The checks and verdicts every result of a batch may share (results are frozen).
_UNCHECKED = Check(status="not-checked")
_UNBOUND = Check(status="not-checked", detail="no review to bind to")
_BOUND = Check(status="ok", detail="subject and payer match the review")
_NOT_ASKED = Authorization(status="unknown", detail="not checked (authorization was not asked for)")
_SKIPPED = Authorization(status="unknown", detail="not checked")


def verify_artifact(artifact: LoadedArtifact, options: VerifyOptions | None = None) -> VerificationResult:
    """Judge one signed offer or receipt. Network trouble during authorization yields `unknown`, never an
    exception; a bad artifact yields `valid: false`, level `invalid`, and the reason in `errors`."""
    options = options or VerifyOptions()
    fmt = str(artifact.envelope.get("format"))
    try:
        signed = _signature(artifact, options)
        subject = subject_did_from_url(str(signed.payload["resourceUrl"]))
    except (InputError, FetchError) as exc:
        return VerificationResult(
            valid=False,
            kind=artifact.kind,
            format=fmt,
            level="invalid",
            authorization=_SKIPPED,
            freshness=_UNCHECKED,
            binding=_UNCHECKED,
            errors=[str(exc)],
            reasons=[exc.reason],
            source=artifact.source,
        )
    freshness = _freshness(artifact.kind, signed.payload, options)
    binding = _binding(artifact.kind, signed.payload, subject, options)
    domain = web_domain(subject) or subject
    if options.authorize:
        own_pay_to = str(signed.payload["payTo"]) if artifact.kind == "offer" else None
        pay_to = own_pay_to or _pay_to_for(signed, subject, options)
        issued_at = signed.payload.get("issuedAt")
        from omareview.identity.authorization import authorize_signer

        authorization = authorize_signer(
            signed.identity,
            domain,
            pay_to=pay_to,
            resolver=options.resolver,
            dns_server=options.dns_server,
            # A receipt is judged as of its issuedAt; an offer (terms about to be paid) as of now.
            at=issued_at
            if isinstance(issued_at, int) and artifact.kind == "receipt"
            else options.now or int(time.time()),
            graph=options.graph,
            witnesses=options.witnesses,
            cache=options.authorization_cache,
        )
    else:
        authorization = _NOT_ASKED
    failed = [check for check in (freshness, binding) if check.status == "failed"]
    errors = [check.detail for check in failed]
    reasons = [check.reason or "check-failed" for check in failed]
    if authorization.status == "unauthorized":
        errors.append(f"the signer is not authorized for {domain}: {authorization.detail}")
        reasons.append("signer-unauthorized")
    level: Level = "invalid" if errors else "verified" if authorization.status == "authorized" else "signed"
    return VerificationResult(
        valid=not errors,
        kind=artifact.kind,
        format=fmt,
        level=level,
        signer=signed.signer,
        payload=signed.payload,
        subject=subject,
        digest="0x" + signed.digest.hex(),
        authorization=authorization,
        freshness=freshness,
        binding=binding,
        errors=errors,
        reasons=reasons,
        source=artifact.source,
    )


def artifact_digest(artifact: LoadedArtifact) -> str:
    """What identifies an artifact for duplicate detection: the EIP-712 digest, or SHA-256 of the JWS
    signing input. Never the signature bytes, which are malleable. Needs no network."""
    if artifact.envelope.get("format") == "eip712":
        payload = artifact.envelope.get("payload")
        if not isinstance(payload, dict):
            raise InputError("an eip712 artifact must carry its payload object", reason="bad-artifact")
        return "0x" + eip712.digest(artifact.kind, payload).hex()
    return "0x" + parse_compact(artifact.envelope["signature"]).digest.hex()
