"""Submitting reviews, idempotently: the outbox and the chain are checked before anything is sent, the
outbox entry says `submitting` before the transaction leaves, and `done` with its UID after, so a crash
or a retry never writes the same receipt's review twice and never loses a receipt."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from omareview.eas.client import EasClient, Submitted, review_request
from omareview.eas.relay import relay_delegated
from omareview.errors import ChainError, ConfigError, OmaReviewError
from omareview.keys import Signer
from omareview.review.duplicates import DuplicateReviewError, reviewed_receipts
from omareview.review.model import UserReview
from omareview.review.outbox import Outbox
from omareview.x402.load import LoadedArtifact
from omareview.x402.verify import artifact_digest

__all__ = ["JobOutcome", "Mode", "ReviewJob", "check_duplicates", "draft_of", "submit_reviews"]

Mode = Literal["direct", "delegated", "relay"]


@dataclass
class ReviewJob:
    """One review to submit, with the receipt and offer that back it.

    Parameters:
        review: the review.
        receipt: the receipt it carries as proof, when it has one.
        offer: the signed offer for the same payment, when there is one.
        digest: the receipt's digest (its outbox key), filled in from the receipt.
    """

    review: UserReview
    receipt: LoadedArtifact | None = None
    offer: LoadedArtifact | None = None
    digest: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.digest = artifact_digest(self.receipt) if self.receipt is not None else None


@dataclass
class JobOutcome:
    job: ReviewJob
    submitted: Submitted | None = None
    error: OmaReviewError | None = None


def draft_of(review: UserReview) -> dict[str, object]:
    """The outbox's draft form of a review (what the hook's ReviewDraft stores), so a retry can rebuild it."""
    return {
        "rating": review.rating_value,
        "body": review.review_body,
        "screenshots": list(review.screenshot_urls),
        "version": review.version,
    }


def check_duplicates(
    client: EasClient, attester: str, jobs: Sequence[ReviewJob], outbox: Outbox | None
) -> dict[int, DuplicateReviewError]:
    """Which jobs' receipts already back a review (job index → error naming the review's UID)."""
    refused: dict[int, DuplicateReviewError] = {}
    with_receipts = [(i, job) for i, job in enumerate(jobs) if job.digest is not None]
    for index, job in with_receipts:
        entry = outbox.get(job.digest) if outbox is not None and job.digest else None
        if entry is not None and entry.status == "done" and entry.uid:
            refused[index] = DuplicateReviewError(entry.uid, "recorded in the local outbox")
    unresolved = [(i, job) for i, job in with_receipts if i not in refused]
    if unresolved:
        on_chain = reviewed_receipts(client, attester)
        for index, job in unresolved:
            uid = on_chain.get(job.digest or "")
            if uid is not None:
                if outbox is not None and job.digest:
                    _remember(outbox, job)
                    outbox.update(job.digest, status="done", uid=uid)
                refused[index] = DuplicateReviewError(uid, "on-chain")
    seen: dict[str, int] = {}
    for index, job in with_receipts:
        if index in refused or job.digest is None:
            continue
        if job.digest in seen:
            refused[index] = DuplicateReviewError(f"(job {seen[job.digest] + 1} of this batch)", "in this batch")
        seen[job.digest] = index
    return refused


def _remember(outbox: Outbox, job: ReviewJob) -> None:
    assert job.receipt is not None and job.digest is not None
    payload = job.receipt.envelope.get("payload") or {}
    outbox.add(
        job.digest,
        job.receipt.envelope,
        offer=job.offer.envelope if job.offer is not None else None,
        subject=job.review.subject,
        payer=str(payload.get("payer")) if isinstance(payload, dict) and payload.get("payer") else None,
        resource_url=str(payload.get("resourceUrl")) if isinstance(payload, dict) else None,
    )


def submit_reviews(
    client: EasClient,
    jobs: Sequence[ReviewJob],
    attester: Signer,
    *,
    outbox: Outbox | None = None,
    allow_duplicate: bool = False,
    mode: Mode = "direct",
    relay_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[JobOutcome]:
    """Submit each job's review; duplicates and failures are reported per job, not raised."""
    outcomes = [JobOutcome(job) for job in jobs]
    if not allow_duplicate:
        for index, error in check_duplicates(client, attester.address, jobs, outbox).items():
            outcomes[index].error = error
    todo = [o for o in outcomes if o.error is None]
    for outcome in todo:
        if outbox is not None and outcome.job.digest is not None:
            _remember(outbox, outcome.job)
            outbox.update(
                outcome.job.digest, status="submitting", draft=draft_of(outcome.job.review), network=client.network.name
            )
    try:
        _send(client, todo, attester, mode, relay_url, progress)
    finally:
        if outbox is not None:
            _record(outbox, todo)
    return outcomes


def _send(
    client: EasClient,
    todo: Sequence[JobOutcome],
    attester: Signer,
    mode: Mode,
    relay_url: str | None,
    progress: Callable[[str], None] | None,
) -> None:
    requests = [review_request(o.job.review.recipient, o.job.review.encode()) for o in todo]
    if mode == "direct":
        if not todo:
            return
        try:
            submitted = (
                [client.attest(requests[0])] if len(todo) == 1 else client.attest_many(requests, progress=progress)
            )
        except OmaReviewError as exc:
            for outcome in todo:
                outcome.error = exc
            return
        for outcome, result in zip(todo, submitted, strict=True):
            outcome.submitted = result
        return
    if mode == "relay" and not relay_url:
        raise ConfigError("relaying needs a relay URL", reason="bad-review")
    for outcome, request in zip(todo, requests, strict=True):
        try:
            delegated = client.sign_delegated(request, attester)
            outcome.submitted = (
                relay_delegated(relay_url, delegated)
                if mode == "relay" and relay_url
                else client.submit_delegated(delegated)
            )
        except OmaReviewError as exc:
            outcome.error = exc


def _record(outbox: Outbox, todo: Sequence[JobOutcome]) -> None:
    for outcome in todo:
        digest = outcome.job.digest
        if digest is None:
            continue
        if outcome.submitted is not None:
            outbox.update(
                digest, status="done", uid=outcome.submitted.uid, tx_hash=outcome.submitted.tx_hash, last_error=None
            )
        elif outcome.error is not None:
            entry = outbox.get(digest)
            attempts = (entry.attempts if entry else 0) + 1
            status = "pending" if isinstance(outcome.error, ChainError) else "rejected"
            outbox.update(digest, status=status, last_error=str(outcome.error), attempts=attempts)
