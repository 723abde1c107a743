"""Draining the outbox: reviews built from the stored receipts and drafts, submitted in batches.

Failures to reach the chain leave entries pending (with the error and an attempt count) for a later run;
`run` retries with exponential backoff. After a crash, an entry left `submitting` is looked up on-chain
before anything is sent again, so a receipt is never reviewed twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from omareview._offloop import async_face
from omareview._wire import WireModel
from omareview.eas.client import EasClient
from omareview.errors import ChainError, InputError, OmaReviewError
from omareview.review.build import review_from_receipt
from omareview.review.duplicates import DuplicateReviewError
from omareview.review.outbox import Outbox, OutboxEntry
from omareview.review.submit import REVIEW_FAULTS, ReviewJob, at_chain_time, submit_reviews
from omareview.signers import Signer, SignerLike, as_signer
from omareview.x402.load import load_artifacts
from omareview.x402.verify import VerifyOptions

__all__ = ["AsyncSubmitter", "SubmitReport", "Submitter", "review_job"]


class SubmitReport(WireModel):
    digest: str
    status: str
    uid: str | None = None
    error: str | None = None


def review_job(entry: OutboxEntry, attester: Signer, options: VerifyOptions) -> ReviewJob:
    """The review an outbox entry's draft makes, with its receipt and offer as proofs."""
    if entry.draft is None:
        raise InputError(f"no review is drafted for {entry.digest[:18]}…", reason="bad-review")
    (receipt,) = load_artifacts(entry.receipt)
    offer = load_artifacts(entry.offer)[0] if entry.offer else None
    review, _ = review_from_receipt(
        receipt,
        attester.address,
        rating=entry.draft.rating,
        body=entry.draft.body,
        screenshots=entry.draft.screenshots,
        version=entry.draft.version,
        offer=offer,
        options=options,
    )
    return ReviewJob(review, receipt, offer)


class Submitter:
    """Turns pending outbox entries with drafts into reviews on-chain, in as few transactions as fit.

    Parameters:
        client: the EAS client to submit with.
        attester: the wallet that paid, which signs the reviews.
        outbox: the outbox to read (None: the default outbox).
        verify_options: how receipts are verified before submitting (None: the defaults).
        progress: called with a line per step, for a person watching.
    """

    def __init__(
        self,
        client: EasClient,
        attester: SignerLike,
        outbox: Outbox | None = None,
        *,
        verify_options: VerifyOptions | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.attester = as_signer(attester)
        self.client = client
        self.outbox = outbox or Outbox()
        self.verify_options = verify_options or VerifyOptions()
        self.progress = progress

    def due(self) -> list[OutboxEntry]:
        """Entries with a draft that are not done: pending ones, and ones a crash left submitting."""
        entries = self.outbox.entries("pending") + self.outbox.entries("submitting")
        return [e for e in entries if e.draft is not None]

    def _failed(self, digests: list[str], exc: ChainError) -> None:
        """The chain failed before these entries could be settled: each keeps its status, counts an attempt."""
        for digest in digests:
            waiting = self.outbox.get(digest)
            if waiting is not None and waiting.status != "done":
                self.outbox.update(waiting.digest, last_error=str(exc), attempts=waiting.attempts + 1)

    def submit_due(self) -> list[SubmitReport]:
        """One pass over the due entries. Raises ChainError (entries stay pending) when the chain is down."""
        reports: list[SubmitReport] = []
        jobs: list[ReviewJob] = []
        due = self.due()
        if not due:
            return reports
        try:
            options = at_chain_time(self.verify_options, self.client)
        except ChainError as exc:
            self._failed([entry.digest for entry in due], exc)
            raise
        for entry in due:
            try:
                jobs.append(review_job(entry, self.attester, options))
            except OmaReviewError as exc:
                # Only a fault in the review itself rejects it; anything else (another wallet's receipt,
                # a network down while verifying) leaves it pending for a later run.
                status = "rejected" if exc.reason in REVIEW_FAULTS else entry.status
                self.outbox.update(entry.digest, status=status, last_error=str(exc))
                reports.append(SubmitReport(digest=entry.digest, status=status, error=str(exc)))
        if not jobs:
            return reports
        try:
            outcomes = submit_reviews(self.client, jobs, self.attester, outbox=self.outbox, progress=self.progress)
        except ChainError as exc:
            self._failed([job.digest or "" for job in jobs], exc)
            raise
        for outcome in outcomes:
            digest = outcome.job.digest or ""
            if outcome.submitted is not None:
                reports.append(SubmitReport(digest=digest, status="done", uid=outcome.submitted.uid))
            elif isinstance(outcome.error, DuplicateReviewError):
                self.outbox.update(digest, status="done", uid=outcome.error.uid, last_error=None)
                reports.append(
                    SubmitReport(digest=digest, status="done", uid=outcome.error.uid, error="already on-chain")
                )
            else:
                recorded = self.outbox.get(digest)
                reports.append(
                    SubmitReport(
                        digest=digest, status=recorded.status if recorded else "pending", error=str(outcome.error)
                    )
                )
        return reports

    def run(self, *, attempts: int = 5, backoff_s: float = 1.0) -> list[SubmitReport]:
        """submit_due, retrying with exponential backoff while the chain cannot be reached (from the first
        try on: the chain is first asked inside the loop)."""
        for attempt in range(attempts):
            try:
                return self.submit_due()
            except ChainError:
                if attempt == attempts - 1:
                    raise
                time.sleep(backoff_s * 2**attempt)
        return []


class AsyncSubmitter:
    """The submitter for asyncio agents: the same work as `Submitter`, run off the event loop.

    Parameters:
        submitter: the synchronous `Submitter` whose work is run in a thread.
    """

    def __init__(self, submitter: Submitter) -> None:
        self.submitter = submitter

    due = async_face(Submitter.due, "submitter")
    submit_due = async_face(Submitter.submit_due, "submitter")

    async def run(self, *, attempts: int = 5, backoff_s: float = 1.0) -> list[SubmitReport]:
        for attempt in range(attempts):
            try:
                return await self.submit_due()
            except ChainError:
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(backoff_s * 2**attempt)
        return []
