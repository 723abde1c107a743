"""Sending a drafted review to a review provider's `write` link (the x402 `reviews` extension) instead of
submitting it on-chain oneself: the provider pays the gas, the payer stays the attester.

Before signing, the payer checks the settlement's transaction is its own payment (funds left its wallet, on
the payment network: the settlement response is relayed by the server, which could name another's
transaction) and that the provider is on its allowlist and is the host of the link. The entry is claimed in
the outbox first and the provider keeps one review per payment, so a retry after a lost answer yields the
same review: the provider answers `ALREADY_REVIEWED` with its UID, which is checked on-chain.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

from omareview._json import loads_untrusted
from omareview._owners import new_owner
from omareview.eas.client import EasClient, review_request
from omareview.errors import InputError, ServiceError
from omareview.hooks.submitter import SubmitReport, review_job
from omareview.identity.fetch import SafeFetcher
from omareview.networks import payment_networks
from omareview.review.outbox import Outbox, OutboxEntry, ReviewDraft
from omareview.review.payment import PaymentClaim, PaymentVerifier
from omareview.review.submit import at_chain_time
from omareview.signers import SignerLike, as_signer
from omareview.x402.verify import VerifyOptions

__all__ = ["WRITE_TIMEOUT_S", "send_via_provider"]

#: How long a provider may take to verify and write a review.
WRITE_TIMEOUT_S = 60.0


def _write_url(entry: OutboxEntry, provider: str, allowlist: Collection[str]) -> str:
    host = provider.lower()
    if host not in {h.lower() for h in allowlist}:
        raise InputError(f"review provider {host} is not on the allowlist", reason="provider-not-allowed")
    for link in entry.review_links.providers if entry.review_links is not None else []:
        if link.provider.lower() == host and (urlsplit(link.write).hostname or "").lower() == host:
            return link.write
    raise InputError(f"the settlement of {entry.digest[:18]}… lists no write link at {host}", reason="no-write-link")


def _check_own_payment(entry: OutboxEntry, payer: str, verifier: PaymentVerifier) -> None:
    if not entry.payment_network or not entry.payment_tx:
        raise InputError("the entry names no settlement transaction to review", reason="not-own-payment")
    claim = PaymentClaim(entry.payment_network, entry.payment_tx, payer, None, None, None)
    (evidence,) = verifier.verify([claim])
    if evidence.status == "unavailable":
        raise ServiceError(f"cannot check the payment: {evidence.reason}", reason="payment-pending")
    if evidence.status not in ("paid", "pending", "refunded"):
        raise InputError(
            f"transaction {entry.payment_tx} is not this wallet's payment ({evidence.reason})", reason="not-own-payment"
        )


def send_via_provider(
    digest: str,
    provider: str,
    client: EasClient,
    attester: SignerLike,
    *,
    allowlist: Collection[str],
    draft: ReviewDraft | None = None,
    outbox: Outbox | None = None,
    verify_options: VerifyOptions | None = None,
    fetcher: SafeFetcher | None = None,
    verifier: PaymentVerifier | None = None,
) -> SubmitReport:
    """Send the review drafted for outbox entry `digest` (or `draft`, attached first) to `provider`'s write
    link; the entry ends `done` with the review's UID, or stays pending with the provider's refusal as its last
    error. An entry already `done` answers the review it has; another wallet's entry is refused untouched."""
    signer = as_signer(attester)
    box = outbox or Outbox()
    entry = box.get(digest)
    if entry is None:
        raise InputError(f"no outbox entry {digest[:18]}…", reason="outbox-entry")
    if entry.payer is not None and entry.payer.lower() != signer.address.lower():
        raise InputError(
            f"{digest[:18]}… was paid by {entry.payer}, not by the signing wallet {signer.address}; "
            "only the payer can review it through a provider",
            reason="payer-not-attester",
        )
    if entry.status == "done":
        return SubmitReport(digest=digest, status="done", uid=entry.uid)
    if entry.status == "rejected":
        raise InputError(f"entry {digest[:18]}… was rejected; `outbox retry` brings it back", reason="outbox-entry")
    if entry.draft is None and draft is None:
        raise InputError(f"no drafted review for {digest[:18]}…", reason="bad-review")
    url = _write_url(entry, provider, allowlist)
    _check_own_payment(entry, signer.address, verifier or PaymentVerifier(payment_networks(client.network)))
    if draft is not None:
        entry = box.update(digest, draft=draft)
    job = review_job(entry, signer, at_chain_time(verify_options or VerifyOptions(), client))
    owner = new_owner()
    claimed, _ = box.claim([digest], owner)
    if digest not in claimed:
        raise InputError(f"{digest[:18]}… is being submitted by another process", reason="claimed-elsewhere")
    try:
        delegated = client.sign_delegated(review_request(job.review.recipient, job.review.encode()), signer)
        body = delegated.relay_body().to_json_text().encode()
        fetch = fetcher or SafeFetcher(timeout_s=WRITE_TIMEOUT_S)
        status, _, raw = fetch.fetch(url, json_body=body)
        answer = loads_untrusted(raw, what=f"the answer of {provider}", max_bytes=64 * 1024) if raw else {}
        answer = answer if isinstance(answer, dict) else {}
        uid = answer.get("uid") if isinstance(answer.get("uid"), str) else None
        if uid and (status == 200 or answer.get("code") == "ALREADY_REVIEWED"):
            (found,) = client.attestations([uid])
            if found.attester.lower() != signer.address.lower():
                raise ServiceError(
                    f"{provider} named review {uid}, which another wallet attested", reason="relay-failed"
                )
            box.update(digest, status="done", uid=uid, network=client.network.name, last_error=None)
            return SubmitReport(digest=digest, status="done", uid=uid)
        problem = f"{provider} refused the review ({answer.get('code') or status}): {answer.get('message') or ''}"
        box.update(digest, last_error=problem.strip(), attempts=entry.attempts + 1)
        return SubmitReport(digest=digest, status="pending", error=problem.strip())
    finally:
        box.release(owner)
