"""Judging a stored review (SPEC §2): the level of its best `x402-receipt` proof, raised to `paid` when
the payment it claims is confirmed on the payment network (`omareview.review.payment`).

A receipt proof is verified with the review as its context (subject, attester) and with freshness measured
against the attestation's own time (a receipt issued after the review was written is refused). Signed offers
in the same review serve as `payTo` evidence; they prove terms, not a purchase, so they grant no level.
Other proof types are kept but not judged. Legacy-schema reviews carry no proofs and read as unverified.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from omareview.errors import FetchError, InputError
from omareview.identity.dids import subject_did
from omareview.index._rows import StoredReview
from omareview.index.context import LEVEL_RANK, JudgeContext, ReviewLevel
from omareview.index.dealing import self_dealing
from omareview.index.judgement import AuthorizationEvidence, Judgement, ProofVerdict, ReviewEvidence
from omareview.review.payment import PaymentClaim, PaymentEvidence
from omareview.review.proofs import Proof, parse_proof
from omareview.x402.caip2 import to_caip2
from omareview.x402.load import LoadedArtifact, load_artifacts
from omareview.x402.required import parse_payment_required
from omareview.x402.verify import VerificationResult, VerifyOptions, verify_artifact
from omareview.x402.wire import ArtifactKind

__all__ = ["judge", "judge_many"]

_TX_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
# Sources that speak for the subject itself; `pay-to` is not one (it would vouch for itself).
_SUBJECT_SOURCES = ("did-json", "dns-txt")


def _artifacts(proof_object: Any, kind: ArtifactKind) -> list[LoadedArtifact]:
    try:
        return load_artifacts(proof_object, kind=kind)
    except InputError:
        return []


@dataclass
class _Judged:
    """One review part-way through judging: its receipt verdict, and the payment it claims."""

    level: ReviewLevel
    judgement: Judgement
    claim: PaymentClaim | None = None


def judge(
    review: StoredReview, subject: str, context: JudgeContext, *, dealing: bool = True
) -> tuple[ReviewLevel, Judgement]:
    """The review's level and the reasons, as stored and shown (`dealing`: as `judge_many`)."""
    return judge_many([review], subject, context, dealing=dealing)[0]


def judge_many(
    reviews: Sequence[StoredReview], subject: str, context: JudgeContext, *, dealing: bool = True
) -> list[tuple[ReviewLevel, Judgement]]:
    """Judge a subject's reviews: each receipt first, then every claimed payment in one batch per network,
    then (with `dealing`) whether the service could have bought each one itself. The level never depends
    on that last step, so a caller that only asks "is it paid" skips it and its round trips.

    A judgement whose payment could not be decided (a network down, a payment not final yet) carries
    `recheck`, so it is never kept as a verdict.
    """
    partial = [_judge_receipts(review, subject, context) for review in reviews]
    claims = [p.claim for p in partial if p.claim is not None]
    verifier = context.payments
    evidence = iter(verifier.verify(claims) if verifier is not None and claims else [])
    results: list[tuple[ReviewLevel, Judgement]] = []
    for item in partial:
        if item.claim is None or item.judgement.evidence is None:
            results.append((item.level, _with_reason(item.level, item.judgement)))
            continue
        payment = next(evidence, None) if verifier is not None else None
        if payment is None:
            payment = PaymentEvidence(
                status="unavailable",
                network=item.claim.network,
                tx_hash=item.claim.tx_hash,
                reason="no payment network is configured",
            )
        level: ReviewLevel = "paid" if payment.status == "paid" else item.level
        reason = item.judgement.reason
        if level != "paid" and payment.reason:
            reason = reason or f"payment {payment.status}: {payment.reason}"
        judgement = item.judgement.model_copy(
            update={
                "evidence": item.judgement.evidence.model_copy(update={"payment": payment}),
                "recheck": payment.status in ("pending", "unavailable"),
                "reason": reason,
            }
        )
        results.append((level, judgement))
    if not dealing:
        return results
    payments = [judgement.evidence.payment if judgement.evidence else None for _, judgement in results]
    for index, why in enumerate(self_dealing(subject, payments, context)):
        level, judgement = results[index]
        if why is not None and judgement.evidence is not None:
            marked = judgement.evidence.model_copy(update={"self_dealing": why})
            results[index] = (level, judgement.model_copy(update={"evidence": marked}))
    return results


def _with_reason(level: ReviewLevel, judgement: Judgement) -> Judgement:
    """The judgement with a top-level `reason` saying why a review that is not `paid` is not, taken from the
    proof that decided its level: a reader should not have to dig through `proofs[].errors`."""
    if level == "paid" or judgement.reason:
        return judgement
    proofs = [p for p in judgement.proofs if p.level == level]
    if level == "invalid":
        errors = [e for p in proofs for e in p.errors]
        why = "its receipt proof fails: " + "; ".join(errors[:3]) if errors else "its receipt proof fails"
    elif level == "signed":
        details = [p.authorization.detail for p in proofs if p.authorization is not None]
        detail = next((d for d in details if d), "no source answered")
        why = f"the receipt's signer could not be shown to speak for the service ({detail})"
    else:
        why = "its receipt names no settlement, and the service binds no payTo to look for one by"
    return judgement.model_copy(update={"reason": why})


def _judge_receipts(review: StoredReview, subject: str, context: JudgeContext) -> _Judged:
    if review.decode_error is not None:
        return _Judged("invalid", Judgement(reason=f"the attestation data is not a User Review: {review.decode_error}"))
    try:
        own_subject = subject_did(review.subject or "")
    except InputError as exc:
        return _Judged("invalid", Judgement(reason=f"the review's subject is not a DID: {exc}"))
    if own_subject != subject:
        return _Judged(
            "invalid",
            Judgement(reason=f"the review's subject {own_subject} is not {subject}, whose DID address it was sent to"),
        )
    if review.legacy:
        return _Judged("unverified", Judgement(reason="a legacy User Review schema, without proofs"))
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
        graph=context.graph,
        witnesses=context.witnesses() if context.graph is not None else None,
        payer_link=context.payer_link(review.attester),
    )
    judged: list[ProofVerdict] = []
    best_receipt: VerificationResult | None = None
    for proof in parsed:
        if proof is None:
            judged.append(ProofVerdict(proof_type=None, level="invalid", errors=["the proof is not readable JSON"]))
            continue
        if proof.proof_type != "x402-receipt":
            judged.append(ProofVerdict(proof_type=proof.proof_type, level=None))
            continue
        receipts = _artifacts(proof.proof_object, "receipt")
        if len(receipts) != 1:
            judged.append(
                ProofVerdict(proof_type=proof.proof_type, level="invalid", errors=["the proof holds no signed receipt"])
            )
            continue
        result = verify_artifact(receipts[0], options)
        if result.level != "invalid" and (best_receipt is None or result.level == "verified"):
            best_receipt = result
        judged.append(
            ProofVerdict(
                proof_type=proof.proof_type,
                level=result.level,
                errors=result.errors,
                digest=result.digest,
                signer=result.signer,
                authorization=result.authorization,
            )
        )
    levels = [p.level for p in judged if p.level is not None]
    if not levels:
        return _Judged("unverified", Judgement(proofs=judged, reason="no x402 receipt proof"))
    best: ReviewLevel = max(levels, key=lambda level: LEVEL_RANK[level])
    if best_receipt is None:
        return _Judged(best, Judgement(proofs=judged))
    evidence = ReviewEvidence(
        binding=best_receipt.binding.status,
        authorization=AuthorizationEvidence.of(best_receipt.authorization),
        link=best_receipt.binding.link,
    )
    claim = _payment_claim(review, parsed, best_receipt, offers, options, context)
    return _Judged(best, Judgement(proofs=judged, evidence=evidence), claim)


def _payment_claim(
    review: StoredReview,
    parsed: Sequence[Proof | None],
    receipt: VerificationResult,
    offers: Sequence[LoadedArtifact],
    options: VerifyOptions,
    context: JudgeContext,
) -> PaymentClaim | None:
    """The payment the review's receipt proves was made, with the offered terms and the `payTo` addresses
    bound to the subject. Its settlement is the one the receipt's `transaction` names (or, on reviews
    written before, a `tx-interaction` proof), else searched for on the payment network around the
    receipt's `issuedAt`; None when there is nothing to check (no network, or no bound `payTo` to look for
    an unnamed settlement by)."""
    payload = receipt.payload or {}
    network, tx_hash = str(payload.get("network") or ""), str(payload.get("transaction") or "")
    for proof in parsed:
        if proof is not None and proof.proof_type == "tx-interaction" and isinstance(proof.proof_object, dict):
            chain, named = proof.proof_object.get("chainId"), proof.proof_object.get("txHash")
            if isinstance(chain, str) and isinstance(named, str) and _TX_HASH.fullmatch(named):
                network, tx_hash = chain, named
                break
    # An EVM settlement is 0x and 64 hex digits; another network's (a Solana signature) is kept as named, to
    # be reported as a network omareview cannot check.
    evm = network.startswith("eip155:")
    if not network or (tx_hash and evm and not _TX_HASH.fullmatch(tx_hash)) or (not tx_hash and not evm):
        return None
    subject = receipt.subject or ""
    asset: str | None = None
    amount: int | None = None
    bound: set[str] = set()
    domain = subject.removeprefix("did:web:")
    for offer in offers:
        result = verify_artifact(offer, options)
        terms = result.payload or {}
        if not result.valid or result.subject != subject or terms.get("network") != network:
            continue
        asset = asset or str(terms.get("asset") or "") or None
        offered = str(terms.get("amount") or "")
        amount = int(offered) if amount is None and offered.isdigit() else amount
        pay_to = str(terms.get("payTo") or "").lower()
        authorized = result.authorization.status == "authorized"
        if (authorized and result.authorization.method in _SUBJECT_SOURCES) or (
            context.authorize and _named_by_subject(pay_to, domain, context)
        ):
            bound.add(pay_to)
    bound |= _advertised_pay_to(str(payload.get("resourceUrl") or ""), network, context)
    issued_at = payload.get("issuedAt")
    if not tx_hash and not bound:
        return None
    return PaymentClaim(
        network=network,
        tx_hash=(tx_hash.lower() if evm else tx_hash) or None,
        payer=str(payload.get("payer") or review.attester),
        asset=asset,
        amount=amount,
        pay_to=frozenset(bound),
        issued_at=int(str(issued_at)) if str(issued_at).isascii() and str(issued_at).isdigit() else None,
    )


def _named_by_subject(address: str, domain: str, context: JudgeContext) -> bool:
    """The subject's did.json or `_controllers` TXT record names this address."""
    if not address:
        return False
    from omareview.identity.authorization import authorize_signer, default_resolver

    found = authorize_signer(
        address, domain, resolver=context.resolver or default_resolver(), dns_server=context.dns_server
    )
    return found.status == "authorized" and found.method in _SUBJECT_SOURCES


def _advertised_pay_to(resource_url: str, network: str, context: JudgeContext) -> set[str]:
    """The `payTo` addresses the subject's own 402 at `resource_url` advertises for `network`, fetched under
    the did:web guard and cached per host with the time it was seen."""
    if not resource_url or not context.authorize:
        return set()
    host = (urlsplit(resource_url).hostname or "").lower()
    cached = context.advertised.get((host, network))
    if cached is not None:
        return set(cached)
    from omareview.identity.fetch import SafeFetcher

    fetcher = context.resolver.fetcher if context.resolver is not None else SafeFetcher()
    found: set[str] = set()
    try:
        status, headers, body = fetcher.fetch(resource_url)
        if status == 402:
            required = parse_payment_required(headers, body, what=f"the 402 of {host}")
            for entry in required.accepts:
                if entry.network and to_caip2(entry.network) == network:
                    found.add((entry.pay_to or "").lower())
    except (InputError, FetchError, ValueError):
        found = set()
    context.advertised.put((host, network), frozenset(found))
    return found
