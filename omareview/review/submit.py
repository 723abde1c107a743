"""Submitting reviews, idempotently: the outbox and the chain are checked before anything is sent, the
outbox entry says `submitting` before the transaction leaves, and `done` with its UID after, so a crash
or a retry never writes the same receipt's review twice and never loses a receipt."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from omareview._owners import new_owner
from omareview.eas._tx import Receipt, SendJournal, SignedTx
from omareview.eas.abi import RequestData
from omareview.eas.client import EasClient, Submitted, review_request
from omareview.eas.delegation import DelegatedAttestation
from omareview.eas.rpc import RpcError
from omareview.errors import ChainError, ConfigError, InputError, OmaReviewError, Reason
from omareview.review.duplicates import DuplicateReviewError, reviewed_receipts
from omareview.review.model import UserReview
from omareview.review.outbox import Outbox, RecordedDelegation, RecordedSend, ReviewDraft
from omareview.signers import Signer, SignerLike, as_signer
from omareview.x402.load import LoadedArtifact
from omareview.x402.verify import VerifyOptions, artifact_digest

__all__ = [
    "CLAIM_WAIT_S",
    "REVIEW_FAULTS",
    "JobOutcome",
    "Mode",
    "ReviewJob",
    "at_chain_time",
    "check_duplicates",
    "draft_of",
    "submit_reviews",
]

Mode = Literal["direct", "delegated", "relay"]

#: Failures that are a verdict on the review itself: only these reject an outbox entry for good.
REVIEW_FAULTS: frozenset[Reason] = frozenset(
    {"bad-review", "unreadable-artifact", "bad-eip712", "bad-jws", "bad-artifact"}
)
CLAIM_WAIT_S = 180.0
CLAIM_POLL_S = 0.2


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


def draft_of(review: UserReview) -> ReviewDraft:
    """The outbox's draft form of a review, so a retry can rebuild it."""
    return ReviewDraft(review.rating_value, review.review_body, tuple(review.screenshot_urls), review.version)


def at_chain_time(options: VerifyOptions, client: EasClient) -> VerifyOptions:
    """`options` judging at the chain's clock (unless they name a time): a review is checked before it is
    written as the index will judge it once it is, at the time it will carry on-chain."""
    return options if options.now is not None else replace(options, now=client.rpc.next_block_time())


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
        on_chain = reviewed_receipts(
            client, attester, outbox, among={job.digest for _, job in unresolved if job.digest}
        )
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


class _OutboxJournal:
    """The outbox as the journal of one batch's transaction: the entries it carries are recorded with it."""

    def __init__(self, outbox: Outbox, digests: list[str]) -> None:
        self.outbox = outbox
        self.digests = digests

    def nonce_floor(self, sender: str) -> int:
        return self.outbox.next_nonce(sender)

    def record(self, sender: str, signed: SignedTx) -> None:
        self.outbox.record_send(signed.tx_hash, signed.raw, signed.nonce, sender, self.digests)

    def void(self, tx_hash: str) -> None:
        self.outbox.set_send_state(tx_hash, "void")


def submit_reviews(
    client: EasClient,
    jobs: Sequence[ReviewJob],
    attester: SignerLike,
    *,
    outbox: Outbox | None = None,
    allow_duplicate: bool = False,
    mode: Mode = "direct",
    relay_url: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[JobOutcome]:
    """Submit each job's review; duplicates and failures are reported per job, not raised.

    With an outbox, each receipt is reviewed exactly once whatever crashes or races: its entry is claimed
    first, a transaction a crashed run left is found (pending or mined) and its bytes rebroadcast rather
    than signed anew, and every new transaction is recorded before it is broadcast.
    """
    outcomes = [JobOutcome(job) for job in jobs]
    attester = as_signer(attester)
    say = progress or (lambda _line: None)
    client.check_chain()
    if not allow_duplicate:
        say(f"looking on-chain for an earlier review of {'this receipt' if len(jobs) == 1 else 'these receipts'}")
    if outbox is None:
        if not allow_duplicate:
            for index, error in check_duplicates(client, attester.address, jobs, None).items():
                outcomes[index].error = error
        _send(client, [o for o in outcomes if o.error is None], attester, mode, relay_url, progress, None)
        return outcomes
    owner = new_owner()
    keyed = [o for o in outcomes if o.job.digest is not None]
    todo: list[JobOutcome] = []
    try:
        with outbox.batch():
            for outcome in keyed:
                _remember(outbox, outcome.job)
        _claim(outbox, keyed, owner, allow_duplicate)
        _recover(client, outbox, [o for o in keyed if o.error is None])
        if not allow_duplicate:
            for index, error in check_duplicates(client, attester.address, jobs, outbox).items():
                if outcomes[index].error is None and outcomes[index].submitted is None:
                    outcomes[index].error = error
        todo = [o for o in outcomes if o.error is None and o.submitted is None]
        with outbox.batch():
            for outcome in todo:
                if outcome.job.digest is not None:
                    outbox.update(outcome.job.digest, draft=draft_of(outcome.job.review), network=client.network.name)
        if todo:
            say(f"sending {len(todo)} review{'' if len(todo) == 1 else 's'} and waiting for the chain to take them")
        _send(client, todo, attester, mode, relay_url, progress, outbox, allow_duplicate)
    finally:
        with outbox.batch():
            _record(outbox, todo, allow_duplicate)
        outbox.release(owner)
    return outcomes


def _claim(outbox: Outbox, keyed: Sequence[JobOutcome], owner: str, allow_duplicate: bool) -> None:
    """Claim every job's entry, waiting while another live submitter holds one; entries that another
    submitter finished meanwhile are left to the duplicate check."""
    waiting = {o.job.digest or "" for o in keyed}
    deadline = time.monotonic() + CLAIM_WAIT_S
    while waiting:
        claimed, elsewhere = outbox.claim(sorted(waiting), owner)
        waiting -= claimed
        finished = waiting - elsewhere
        waiting = elsewhere
        for digest in finished:
            entry = outbox.get(digest)
            if entry is not None and entry.status == "rejected" and not allow_duplicate:
                for outcome in keyed:
                    if outcome.job.digest == digest:
                        outcome.error = InputError(
                            f"this receipt was rejected earlier ({entry.last_error}); bring it back with a retry",
                            reason="outbox-entry",
                        )
        if waiting and time.monotonic() > deadline:
            for outcome in keyed:
                if outcome.job.digest in waiting:
                    outcome.error = ChainError(
                        "another submitter is still working on this receipt", reason="claimed-elsewhere"
                    )
            return
        if waiting:
            time.sleep(CLAIM_POLL_S)


def _recover(client: EasClient, outbox: Outbox, claimed: Sequence[JobOutcome]) -> None:
    """Settle the transactions an earlier run recorded for these entries: mined ones mark their entries
    done (reported as already on-chain: this run did not write them), pending ones are awaited, ones the
    node lost are rebroadcast byte for byte, and only those that can never be mined are written off (their
    entries are then signed again)."""
    by_digest = {o.job.digest: o for o in claimed if o.job.digest is not None}
    for send in outbox.open_sends(list(by_digest)):
        try:
            receipt = _settle(client, send)
        except InputError:
            receipt = None  # reverted: nothing was attested
        if receipt is None:
            outbox.set_send_state(send.tx_hash, "void")
            continue
        uids = client.uids_in(receipt, len(send.digests))
        for digest, uid in zip(send.digests, uids, strict=True):
            outbox.update(digest, status="done", uid=uid, tx_hash=receipt.tx_hash, last_error=None)
            outcome = by_digest.get(digest)
            if outcome is not None:
                outcome.error = DuplicateReviewError(uid, "on-chain")
        outbox.set_send_state(send.tx_hash, "settled")


def _settle(client: EasClient, send: RecordedSend) -> Receipt | None:
    """The mined receipt of a recorded transaction (waiting while it is pending), or None when it can never
    be mined. Raises ChainError when that cannot be decided now (the send stays recorded)."""
    mined = client.receipt_of(send.tx_hash)
    if mined is not None:
        return mined
    sender = client.sender()
    fate = sender.fate(send.tx_hash, send.nonce)
    if fate == "open":
        try:
            sender.broadcast(send.raw)
        except RpcError:
            fate = sender.fate(send.tx_hash, send.nonce)
            if fate == "open":
                return None  # refused outright and unknown to the node: these bytes can never be mined
        else:
            fate = "known"
    if fate == "dead":
        return None  # its nonce went to another transaction: this one can never be mined
    return sender.wait(send.tx_hash, "attestation")


def _send(
    client: EasClient,
    todo: Sequence[JobOutcome],
    attester: Signer,
    mode: Mode,
    relay_url: str | None,
    progress: Callable[[str], None] | None,
    outbox: Outbox | None,
    allow_duplicate: bool = False,
) -> None:
    requests = [review_request(o.job.review.recipient, o.job.review.encode()) for o in todo]
    digests = [o.job.digest for o in todo]

    def journal(positions: range) -> SendJournal | None:
        carried = [digests[i] for i in positions]
        if outbox is None or any(digest is None for digest in carried):
            return None
        return _OutboxJournal(outbox, [digest for digest in carried if digest is not None])

    if mode == "direct":
        if not todo:
            return
        try:
            submitted = (
                [client.attest(requests[0], journal=journal(range(1)))]
                if len(todo) == 1
                else client.attest_many(requests, progress=progress, journal=journal)
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
    # The relay's HTTP client (httpx) is loaded only when a relay is used: it costs a direct submission's
    # start-up about 60 ms.
    from omareview.eas.relay import relay_delegated

    for outcome, request in zip(todo, requests, strict=True):
        try:
            delegated = _delegation(client, outbox if not allow_duplicate else None, outcome, request, attester)
            if delegated is None:
                continue
            outcome.submitted = (
                relay_delegated(relay_url, delegated)
                if mode == "relay" and relay_url
                else client.submit_delegated(delegated)
            )
        except OmaReviewError as exc:
            outcome.error = exc


def _delegation(
    client: EasClient, outbox: Outbox | None, outcome: JobOutcome, request: RequestData, attester: Signer
) -> DelegatedAttestation | None:
    """The delegated signature to send for a job, recorded in the outbox before it leaves; None when the
    chain shows the job's review already written (the outcome then says so).

    EAS spends an attester's nonces in order, each once. While the nonce of a delegation recorded for this
    entry is unspent (and its deadline not passed) the retry signs at that same nonce, so at most one of the
    two can be attested; once it is spent, the chain is read for the review before a new nonce is used."""
    digest = outcome.job.digest
    if outbox is None or digest is None:
        return client.sign_delegated(request, attester)
    recorded = outbox.delegation_of(digest)
    if recorded is not None and recorded.attester == attester.address.lower():
        spent = client.nonce_of(attester.address) > recorded.nonce
        if not spent and client.rpc.next_block_time() < recorded.deadline:
            return client.sign_delegated(request, attester, nonce=recorded.nonce, deadline=recorded.deadline)
        if spent:
            uid = reviewed_receipts(client, attester.address, outbox, among={digest}).get(digest)
            if uid is not None:
                outbox.update(digest, status="done", uid=uid, last_error=None)
                outcome.error = DuplicateReviewError(uid, "on-chain")
                return None
    delegated = client.sign_delegated(request, attester)
    outbox.record_delegation(digest, RecordedDelegation(attester.address.lower(), delegated.nonce, delegated.deadline))
    return delegated


def _record(outbox: Outbox, todo: Sequence[JobOutcome], allow_duplicate: bool) -> None:
    """What became of each job, in the outbox. Only a fault in the review itself rejects an entry; a
    transaction that may still be mined keeps its entry `submitting` for the next run to settle."""
    for outcome in todo:
        digest = outcome.job.digest
        if digest is None:
            continue
        entry = outbox.get(digest)
        if outcome.submitted is not None:
            outbox.update(
                digest, status="done", uid=outcome.submitted.uid, tx_hash=outcome.submitted.tx_hash, last_error=None
            )
            if entry is not None and entry.tx_hash:
                outbox.set_send_state(entry.tx_hash, "settled")
            continue
        if outcome.error is None or entry is None or (allow_duplicate and entry.status == "done"):
            continue
        in_flight = bool(entry.tx_hash) and any(s.tx_hash == entry.tx_hash for s in outbox.open_sends([digest]))
        status = "submitting" if in_flight else "rejected" if outcome.error.reason in REVIEW_FAULTS else "pending"
        outbox.update(digest, status=status, last_error=str(outcome.error), attempts=entry.attempts + 1)
