"""The judgement of one review, as stored and shown: each proof's verdict, the evidence behind its level, and
why it is not `paid` when it is not. One model, so the judge, the store, the query, the page and the provider
read one shape; the store keeps it as this model's JSON and reads it back through the model.

Apart from the judging itself (`omareview.index.judge`), so that reading a warm index loads no verifier.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from omareview._wire import WireModel, omitted
from omareview.identity.verdict import Authorization, AuthorizationMethod, AuthorizationStatus, SignerInfo
from omareview.index.context import ReviewLevel, SelfDealing
from omareview.review.evidence import PaymentEvidence

__all__ = ["AuthorizationEvidence", "Judgement", "ProofVerdict", "ReviewEvidence"]


class ProofVerdict(WireModel):
    """How one proof of a review was judged.

    Attributes:
        proof_type: its `proofType` (None: the proof is not readable JSON).
        level: what it proves (None: a proof type omareview keeps but does not judge).
        errors: why it fails, for a person.
        digest: the signed receipt's digest (receipt proofs only).
        signer: who signed the receipt.
        authorization: whether that signer speaks for the subject.
    """

    proof_type: str | None
    level: ReviewLevel | None
    errors: list[str] = Field(default_factory=list)
    digest: str | None = omitted()
    signer: SignerInfo | None = omitted()
    authorization: Authorization | None = omitted()


class AuthorizationEvidence(WireModel):
    """Whether the best receipt's signer speaks for the subject, as the review's evidence shows it.

    Attributes:
        status: `authorized`, `unauthorized` or `unknown`.
        method: the source that decided (None: nothing decided).
        tier: the same source, named as a trust tier.
        uid: the attestation that decided, for the on-chain sources.
        valid_from: from when that source authorizes the signer.
        valid_until: until when (absent: open).
    """

    status: AuthorizationStatus
    method: AuthorizationMethod | None
    tier: AuthorizationMethod | None
    uid: str | None = omitted()
    valid_from: int | None = omitted()
    valid_until: int | None = omitted()

    @classmethod
    def of(cls, authorization: Authorization) -> AuthorizationEvidence:
        """The evidence form of an authorization verdict (its detail stays with the proof)."""
        return cls(
            status=authorization.status,
            method=authorization.method,
            tier=authorization.method,
            uid=authorization.uid or None,
            valid_from=authorization.valid_from,
            valid_until=authorization.valid_until,
        )


class ReviewEvidence(WireModel):
    """What the review's best receipt, and the payment it claims, show.

    Attributes:
        signature: `ok` (a receipt whose signature fails is no evidence).
        binding: the receipt's binding to the review's subject and attester (`ok`, `failed`, `not-checked`).
        authorization: whether its signer speaks for the subject.
        link: the Linked Identifier that binds the receipt's payer to the attester, when one does.
        payment: what the payment network says about the payment it claims.
        self_dealing: how the reviewed party could have bought the review itself, when it could.
    """

    signature: Literal["ok"] = "ok"
    binding: Literal["ok", "failed", "not-checked"]
    authorization: AuthorizationEvidence
    link: str | None = omitted()
    payment: PaymentEvidence | None = omitted()
    self_dealing: SelfDealing | None = omitted()


class Judgement(WireModel):
    """A review's judgement, as stored: the reasons behind its level.

    Attributes:
        proofs: each proof's verdict, in the review's order.
        reason: why the review is not `paid`, when it is not.
        evidence: what its best receipt shows (absent: no receipt verified).
        recheck: its payment could not be decided (a network down, a payment not final), so the judgement
            is never kept as a verdict.
    """

    json_exclude_none = True

    proofs: list[ProofVerdict] = Field(default_factory=list)
    reason: str | None = None
    evidence: ReviewEvidence | None = None
    recheck: bool = False
