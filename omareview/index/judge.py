"""Judging a stored review (SPEC §2): the review takes the level of its best `x402-receipt` proof.

A receipt proof is verified with the review as its context (subject, attester) and with freshness measured
against the attestation's own time (a receipt issued after the review was written is refused). Signed offers
in the same review serve as `payTo` evidence; they prove terms, not a purchase, so they grant no level.
Other proof types are kept but not judged. Legacy-schema reviews carry no proofs and read as unverified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from omareview.errors import InputError
from omareview.identity.authorization import Authorization
from omareview.identity.dids import subject_did
from omareview.identity.didweb import DidWebResolver
from omareview.index.store import StoredReview
from omareview.review.proofs import parse_proof
from omareview.x402.load import LoadedArtifact, load_artifacts
from omareview.x402.verify import VerifyOptions, verify_artifact
from omareview.x402.wire import ArtifactKind

__all__ = ["LEVEL_RANK", "JudgeContext", "ReviewLevel", "judge"]

ReviewLevel = Literal["verified", "signed", "unverified", "invalid"]
LEVEL_RANK: dict[str, int] = {"verified": 3, "signed": 2, "unverified": 1, "invalid": 0}


@dataclass
class JudgeContext:
    """What judging shares across reviews: the resolver, DNS server, and the authorization cache.

    Parameters:
        authorize: check signer authorization (False: signature and binding only).
        resolver: the did:web resolver (None: the default, guarded one).
        dns_server: a DNS server for TXT look-ups (None: the system's).
        authorizations: the cache of authorization results, shared across reviews.
    """

    authorize: bool = True
    resolver: DidWebResolver | None = None
    dns_server: str | None = None
    authorizations: dict[tuple[str, str, str | None], Authorization] = field(default_factory=dict)


def _artifacts(proof_object: Any, kind: ArtifactKind) -> list[LoadedArtifact]:
    try:
        return load_artifacts(proof_object, kind=kind)
    except InputError:
        return []


def judge(review: StoredReview, subject: str, context: JudgeContext) -> tuple[ReviewLevel, dict[str, Any]]:
    """The review's level and the reasons, as stored and shown."""
    if review.decode_error is not None:
        return "invalid", {"reason": f"the attestation data is not a User Review: {review.decode_error}"}
    try:
        own_subject = subject_did(review.subject or "")
    except InputError as exc:
        return "invalid", {"reason": f"the review's subject is not a DID: {exc}"}
    if own_subject != subject:
        return "invalid", {
            "reason": f"the review's subject {own_subject} is not {subject}, whose DID address it was sent to"
        }
    if review.legacy:
        return "unverified", {"reason": "a legacy User Review schema, without proofs"}
    parsed = [parse_proof(text) for text in review.proofs]
    offers = [
        a for p in parsed if p is not None and p.proof_type == "x402-offer" for a in _artifacts(p.proof_object, "offer")
    ]
    options = VerifyOptions(
        authorize=context.authorize,
        offers=offers,
        expected_subject=subject,
        expected_payer=review.attester,
        now=review.time,
        resolver=context.resolver,
        dns_server=context.dns_server,
        authorization_cache=context.authorizations,
    )
    judged: list[dict[str, Any]] = []
    for proof in parsed:
        if proof is None:
            judged.append({"proofType": None, "level": "invalid", "errors": ["the proof is not readable JSON"]})
            continue
        if proof.proof_type != "x402-receipt":
            judged.append({"proofType": proof.proof_type, "level": None, "errors": []})
            continue
        receipts = _artifacts(proof.proof_object, "receipt")
        if len(receipts) != 1:
            judged.append(
                {"proofType": proof.proof_type, "level": "invalid", "errors": ["the proof holds no signed receipt"]}
            )
            continue
        result = verify_artifact(receipts[0], options)
        judged.append(
            {
                "proofType": proof.proof_type,
                "level": result.level,
                "errors": result.errors,
                "digest": result.digest,
                "signer": result.signer.model_dump(exclude_none=True) if result.signer else None,
                "authorization": result.authorization.model_dump(exclude_none=True),
            }
        )
    levels = [p["level"] for p in judged if p["level"] is not None]
    if not levels:
        return "unverified", {"proofs": judged, "reason": "no x402 receipt proof"}
    best: ReviewLevel = max(levels, key=lambda level: LEVEL_RANK[level])
    return best, {"proofs": judged}
