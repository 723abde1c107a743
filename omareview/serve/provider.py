"""The review provider behind `omareview serve`: reads from the index, and writes payment-backed reviews.

A write names one payment (`<network>:<transaction>`) and carries the payer's signature over an EAS
delegated `Attest` of the User Review (the OMATrust relay body). Before any gas is spent the provider checks,
in order: the signature (under this EAS's own domain, with a live deadline and the attester's current nonce)
recovers the attester; the request is an irrevocable User Review sent to its subject's DID address; the data
is a well-formed review, its canonical encoding, with a bounded number and size of proofs; judged like any
indexed review it is `paid` (its receipt verifies for the payer, and the money moved on-chain from the payer
to a `payTo` bound to the subject, final) by this payment; no review of this payment by this payer is
indexed or being sent (a claim in the store, taken atomically, so two requests at once yield one review);
the gas the write is estimated to take is under the per-write cap and fits the relayer's hourly budget,
where it stays reserved until the send reports. Only then does it send `attestByDelegation` from the
relayer key; the attester on-chain is the payer.

The OMATrust relay endpoint (`relay`) takes the same path: it relays only a review judged `paid`, so the
operator's gas goes to paid reviews alone, and both endpoints take the one claim of the payment it was
judged by.

The checks over the signed request alone are `serve.write_checks`; the documents answered are
`serve.documents`. Refusals are `InputError`/`ServiceError`s with a reason code; the HTTP application maps
each to a status and an OMATrust-style `code` (`serve.refusals`).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from omareview._cache import ExpiringCache
from omareview._hashing import is_address, to_checksum_address
from omareview._json import loads_untrusted
from omareview._owners import new_owner, owner_is_gone
from omareview.eas._tx import GAS_MARGIN
from omareview.eas.abi import ZERO_UID, EasRevertError
from omareview.eas.client import EasClient, Submitted
from omareview.eas.delegation import DelegatedAttestation, RelayDomain
from omareview.errors import ChainError, InputError, ServiceError
from omareview.identity.dids import subject_did
from omareview.index._rows import StoredReview
from omareview.index.context import LEVELS
from omareview.index.judge import judge
from omareview.index.query import ReviewIndex
from omareview.index.summary import SubjectReviews
from omareview.networks import Network
from omareview.review.model import UserReview
from omareview.review.payment import parse_payment_tx
from omareview.review.proofs import Proof
from omareview.schemas import USER_REVIEW
from omareview.serve.documents import EasTarget, NonceDocument, PaymentInfo, PaymentRef, Written
from omareview.serve.limits import GasBudget, RateLimiter
from omareview.serve.write_checks import checked_request
from omareview.signers import Signer

__all__ = ["MAX_BODY_BYTES", "PaymentReviewedError", "ProviderConfig", "ReviewProvider"]

MAX_BODY_BYTES = 64 * 1024
#: How long a claimed payment stays claimed by a live sender that never reported back (longer than a
#: deadline); a claim whose process is gone is taken over at once.
CLAIM_LEASE_S = 900
#: How long a subject's judged reviews are served from memory when no sync changed the store.
CACHE_TTL_S = 30.0
MAX_CACHED_SUBJECTS = 1024
MAX_CACHED_PAGES = 64


@dataclass
class _Listed:
    """A subject's judged list, the store version it was read at, and its pages as answered."""

    version: int
    at: float
    listed: SubjectReviews
    pages: dict[tuple[int, int], tuple[bytes, str]] = field(default_factory=dict)


class PaymentReviewedError(InputError):
    """The payment already has its one review (or one is being written).

    Parameters:
        message: what happened, for a person.
        uid: the review's UID, once it is on-chain.
    """

    default_reason = "payment-reviewed"

    def __init__(self, message: str, uid: str | None = None) -> None:
        super().__init__(message)
        self.uid = uid


@dataclass
class ProviderConfig:
    """How a provider runs.

    Parameters:
        network: the EAS network reviews are read from and written to.
        relayer: the key that sends delegated attestations (None: the provider only reads).
        home: the omareview home holding the index (None: `$OMAREVIEW_HOME`).
        gas_per_hour: the relayer's gas budget per hour.
        gas_per_write: the most gas one write may be estimated to take; a costlier one is refused unsent.
        writes_per_payer_per_hour: writes one payer may ask for per hour.
        sync_interval_s: seconds between index syncs.
        store: the index's store URL (None: `$OMAREVIEW_STORE`, config.toml, else the SQLite file).
        syncs: this process syncs the index (False: a follower does; this one only reads, and sees the
            follower's work through the store's cursor).
        index: an index to serve instead of opening one.
    """

    network: Network
    relayer: Signer | None = None
    home: Path | None = None
    gas_per_hour: int = 20_000_000
    gas_per_write: int = 3_000_000
    writes_per_payer_per_hour: int = 20
    sync_interval_s: float = 5.0
    store: str | None = field(default=None, repr=False)
    syncs: bool = True
    index: ReviewIndex | None = field(default=None, repr=False)


class ReviewProvider:
    """Reads and writes reviews for the HTTP application; safe to call from many threads.

    Parameters:
        config: how the provider runs.
    """

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.network = config.network
        self.index = config.index or ReviewIndex(config.network, home=config.home, store=config.store)
        self.store = self.index.store
        self.schema_uid = config.network.schema_uid(USER_REVIEW).lower()
        self._client = EasClient(config.network, config.relayer, rpc=self.index.rpc)
        self._send_lock = threading.Lock()
        self._owner = new_owner()
        self._sync_lock = threading.Lock()
        self.budget = GasBudget(config.gas_per_hour)
        self.payer_limit = RateLimiter(config.writes_per_payer_per_hour, 3600.0)
        self._version = 0
        self._cursor: tuple[float, int] = (0.0, 0)
        self._cache: ExpiringCache[tuple[str, Any], _Listed] = ExpiringCache(CACHE_TTL_S, MAX_CACHED_SUBJECTS)
        self._cache_lock = threading.Lock()

    # --- reading ---------------------------------------------------------------------------------------

    def sync(self) -> tuple[int, int, int]:
        """Sync the index and judge what is new: (block synced to, reviews added, subjects judged)."""
        with self._sync_lock:
            result = self.index.sync()
            judged = self.index.judge_pending()
            if result.added or result.removed or judged:
                self._version += 1
        return result.to_block, result.added, judged

    def reviews(
        self, resource: str, *, limit: int = 50, offset: int = 0, min_level: str | None = None
    ) -> SubjectReviews:
        """The reviews of the subject a resource URL (or DID) names, as `omareview reviews` lists them. A
        subject's judged list is kept until a sync changes the store or CACHE_TTL_S passes, so a read costs a
        slice, not a query and a judging pass."""
        full = self._listed(subject_did(resource), _level(min_level)).listed
        return full.model_copy(update={"reviews": full.reviews[offset : offset + limit]})

    def reviews_document(
        self, resource: str, *, limit: int = 50, offset: int = 0, min_level: str | None = None
    ) -> tuple[bytes, str]:
        """One page of `reviews` as the provider's JSON answer, with canonical `links` to the pages before
        and after it, and its ETag. The encoded page is kept with the subject's list, so a warm read is a
        lookup (see `cached_document`)."""
        subject, level = subject_did(resource), _level(min_level)
        listed = self._listed(subject, level)
        return listed.pages.get((offset, limit)) or self._encode_page(listed, subject, level, offset, limit)

    def cached_document(
        self, resource: str, *, limit: int = 50, offset: int = 0, min_level: str | None = None
    ) -> tuple[bytes, str] | None:
        """`reviews_document` when the page is kept and current, else None; it reads no store (beyond the
        follower's cursor, at most once a second), so the event loop may call it without a worker thread."""
        key = (subject_did(resource), _level(min_level))
        listed = self._cache.get(key)
        if listed is None or not self._current(listed, time.monotonic()):
            return None
        return listed.pages.get((offset, limit))

    def _encode_page(self, cached: _Listed, subject: str, level: Any, offset: int, limit: int) -> tuple[bytes, str]:
        full = cached.listed
        listed = full.model_copy(update={"reviews": full.reviews[offset : offset + limit]})

        def at(start: int) -> str:
            query = {"resource": subject, "limit": limit, **({"minLevel": level} if level else {}), "offset": start}
            return f"/reviews?{urlencode(query)}"

        links = {
            "previous": at(max(offset - limit, 0)) if offset > 0 else None,
            "next": at(offset + limit) if offset + limit < full.total else None,
        }
        encoded = json.dumps({**listed.to_json(), "links": links}, separators=(",", ":"), ensure_ascii=False).encode()
        page = (encoded, '"' + hashlib.sha256(encoded).hexdigest()[:32] + '"')
        with self._cache_lock:
            if len(cached.pages) < MAX_CACHED_PAGES:
                cached.pages[(offset, limit)] = page
        return page

    def _current(self, listed: _Listed, now: float) -> bool:
        return listed.version == self._store_version(now) and now - listed.at <= CACHE_TTL_S

    def _listed(self, subject: str, level: Any) -> _Listed:
        key = (subject, level)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is None or not self._current(cached, now):
            cached = _Listed(self._store_version(now), now, self.index.reviews(subject, min_level=level))
            self._cache.put(key, cached)
        return cached

    def _store_version(self, now: float) -> int:
        """What a cached answer is valid for: this process's own syncs, or (reading a follower's store) the
        block the store is synced to, read at most once a second."""
        if self.config.syncs:
            return self._version
        if now - self._cursor[0] > 1.0:
            self._cursor = (now, self.index.synced_to() or 0)
        return self._cursor[1]

    def subjects_paid_to(self, pay_to: str) -> list[str]:
        return self.store.subjects_paid_to(pay_to)

    # --- writing ---------------------------------------------------------------------------------------

    def payment_info(self, payment: str) -> PaymentInfo:
        """What a payer needs to write a review of `payment`: the EAS domain, schema and whether one exists."""
        network, tx_hash = parse_payment_tx(payment)
        domain = self._client.domain()
        return PaymentInfo(
            payment=PaymentRef(network=network, transaction=tx_hash),
            reviewed=self.store.payments.review_of(f"{network}:{tx_hash}"),
            eas=EasTarget(
                chain_id=domain.chain_id,
                address=domain.verifying_contract,
                domain=RelayDomain.of(domain),
                schema_uid=self.schema_uid,
            ),
        )

    def nonce(self, attester: str) -> NonceDocument:
        """The attester's next EAS delegation nonce (the OMATrust relay's `GET /v1/nonce`)."""
        if not is_address(attester):
            raise InputError(f"{attester[:60]!r} is not an address")
        domain = self._client.domain()
        return NonceDocument(
            nonce=str(self._client.nonce_of(to_checksum_address(attester))),
            chain=self.network.name,
            chain_id=domain.chain_id,
            eas_address=domain.verifying_contract,
        )

    def _delegated(self, body: bytes) -> tuple[DelegatedAttestation, UserReview]:
        """The signed request and its review, checked as far as they can be without the chain's history."""
        if self.config.relayer is None:
            raise ServiceError("this provider has no relayer key, so it writes nothing", reason="no-relayer")
        document = loads_untrusted(body, what="the request body", max_bytes=MAX_BODY_BYTES)
        delegated = DelegatedAttestation.from_relay_body(document, self._client.domain())
        review = checked_request(delegated, self.schema_uid, time.time())
        if delegated.nonce != self._client.nonce_of(delegated.attester):
            raise InputError(
                "the signature uses a stale EAS nonce; sign again with the current one", reason="invalid-signature"
            )
        return delegated, review

    def write(self, payment: str, body: bytes) -> Written:
        """Write the payer's review of `payment`, by every check above, or refuse it saying why."""
        network, tx_hash = parse_payment_tx(payment)
        key = f"{network}:{tx_hash}"
        self._refuse_if_reviewed(key)
        try:
            delegated, review = self._delegated(body)
        except InputError as exc:
            # Two signatures of one payer share a nonce: when the other one won, its review is the answer.
            if exc.reason == "invalid-signature":
                self._refuse_if_reviewed(key, in_flight=True)
            raise
        return self._write_paid(delegated, review, key)

    def relay(self, body: bytes) -> Written:
        """The OMATrust relay's `/v1/delegated-attest`: a User Review signed by its attester, relayed only
        when it is payment-backed and passes every check `write` makes, under its payment's one claim."""
        delegated, review = self._delegated(body)
        return self._write_paid(delegated, review, None)

    def _write_paid(self, delegated: DelegatedAttestation, review: UserReview, expected: str | None) -> Written:
        """Write a review judged `paid`, under the claim of the payment it was judged by (which must be
        `expected`, when the request named one)."""
        attester = delegated.attester.lower()
        if self.payer_limit.allow(attester) is not None:
            raise ServiceError(f"{delegated.attester} asked for too many writes this hour", reason="rate-limited")
        network, tx_hash = self._check_paid(review, attester, expected)
        key = f"{network}:{tx_hash}"
        if expected is not None and key != expected:
            raise InputError(
                f"this review's receipt is backed by the payment {key}, not {expected}", reason="wrong-payment"
            )
        self._refuse_if_reviewed(key)
        self._sync_quietly()
        self._refuse_if_written(key, tx_hash, attester)
        try:
            gas = self._estimate(delegated)
        except EasRevertError:
            # EAS refuses a signature whose nonce another one spent: when that one was this payment's
            # review (two writes racing), its review is the answer.
            self._sync_quietly()
            self._refuse_if_written(key, tx_hash, attester, in_flight=True)
            raise
        self._claim(key, tx_hash, attester)
        try:
            submitted = self._send(delegated, gas)
        except ChainError:
            # Sent or not is unknown after a chain error: the claim stays (until its lease ends, or at once
            # should this process die), and the next claim looks for the review in the index first.
            raise
        except BaseException:
            self.store.payments.settle(key, None)
            raise
        self.store.payments.settle(key, submitted.uid)
        self._sync_quietly()
        return _written(submitted, delegated, review)

    def _claim(self, key: str, tx_hash: str, attester: str) -> None:
        """Take the payment's one claim, or refuse with the review it has (or is getting). A claim whose
        writer died is settled first: by the review it sent, once indexed; else it is taken over."""
        claim = self.store.payments.claim(key, attester, self._owner, int(time.time()), CLAIM_LEASE_S)
        if claim.claimed:
            return
        if claim.uid is None and claim.owner is not None and owner_is_gone(claim.owner):
            self._sync_quietly()
            sent = self.store.review_naming(tx_hash, attester)
            if sent is not None:
                self.store.payments.settle(key, sent)
                raise _reviewed(sent)
            if self.store.payments.take_over(key, attester, claim.owner, self._owner, int(time.time())):
                return
            claim = self.store.payments.claim(key, attester, self._owner, int(time.time()), CLAIM_LEASE_S)
            if claim.claimed:
                return
        raise _reviewed(claim.uid)

    def _refuse_if_written(self, key: str, tx_hash: str, attester: str, *, in_flight: bool = False) -> None:
        self._refuse_if_reviewed(key, in_flight=in_flight)
        existing = self.store.review_naming(tx_hash, attester)
        if existing is not None:
            raise PaymentReviewedError(f"this payment already has a review: {existing}", existing)

    def _refuse_if_reviewed(self, key: str, *, in_flight: bool = False) -> None:
        existing = self.store.payments.review_of(key, in_flight=in_flight)
        if existing is not None:
            raise PaymentReviewedError(
                f"this payment already has a review: {existing}"
                if existing
                else "a review of this payment is being written",
                existing or None,
            )

    def _sync_quietly(self) -> None:
        """Sync around a write, so the duplicate check and the next read see the chain as it is now; a failure
        waits for the next scheduled sync. A reader of a follower's store leaves syncing to the follower."""
        if not self.config.syncs:
            return
        try:
            self.sync()
        except ChainError:
            return

    def _check_paid(self, review: UserReview, attester: str, named_payment: str | None) -> tuple[str, str]:
        """Judge the review as the index will judge it once written: by the same rules, at the time it will
        carry on-chain (the next block's time, never this machine's clock). The payment it is `paid` by:
        (network, transaction). A payment the request names is judged as the settlement (as a pointer
        would be, though none is written): two payments of one payer to one service in the same second are
        told apart by nothing else a privacy-minimal receipt carries."""
        named = named_payment.rsplit(":", 1) if named_payment else None
        pointer = (Proof.wrap("tx-interaction", {"chainId": named[0], "txHash": named[1]}).to_text(),) if named else ()
        now = self._client.rpc.next_block_time()
        candidate = StoredReview(
            uid=ZERO_UID,
            schema_uid=self.schema_uid,
            attester=attester,
            recipient=review.recipient,
            time=now,
            revocation_time=0,
            block_number=0,
            block_hash="",
            tx_hash="",
            log_index=0,
            subject=review.subject,
            version=review.version,
            rating_value=review.rating_value,
            review_body=review.review_body,
            screenshot_urls=review.screenshot_urls,
            proofs=(*review.proofs, *pointer),
            legacy=False,
            decode_error=None,
            level=None,
            judgement=None,
            judged_at=None,
        )
        # Whether the payment's own service bought it changes what the review counts for, not whether it
        # is paid: it is written either way, and the index says so once it is judged there.
        level, judgement = judge(candidate, review.subject, self.index.judge_context, dealing=False)
        payment = judgement.evidence.payment if judgement.evidence is not None else None
        if level == "paid" and payment is not None and payment.tx_hash:
            return payment.network, payment.tx_hash.lower()
        if judgement.recheck:
            raise ServiceError(
                f"the payment cannot be confirmed yet ({judgement.reason}); try again shortly",
                reason="payment-pending",
            )
        raise InputError(
            f"the review is not payment-backed ({level}): {judgement.reason or 'no confirmed payment'}",
            reason="not-payment-backed",
        )

    def _estimate(self, delegated: DelegatedAttestation) -> int:
        """The gas this write will take, refused above the per-write cap before anything is claimed or sent."""
        try:
            gas = self._client.estimate_delegated(delegated)
        except ChainError as exc:
            raise ChainError(f"the chain could not estimate the attestation: {exc}", reason=exc.reason) from exc
        if gas > self.config.gas_per_write:
            raise InputError(
                f"writing this review would take {gas:,} gas; this provider pays at most "
                f"{self.config.gas_per_write:,} per review",
                reason="too-large",
            )
        return gas

    def _send(self, delegated: DelegatedAttestation, gas: int) -> Submitted:
        ticket = self.budget.take(int(gas * GAS_MARGIN))
        if ticket is None:
            raise ServiceError("the relayer's gas budget for this hour is spent", reason="gas-budget")
        used = 0
        try:
            with self._send_lock:
                submitted = self._client.submit_delegated(delegated, gas)
            used = submitted.gas_used
            return submitted
        except ChainError as exc:
            used = int(gas * GAS_MARGIN)
            raise ChainError(f"the chain refused or lost the attestation: {exc}", reason=exc.reason) from exc
        finally:
            self.budget.settle(ticket, used)


def _written(submitted: Submitted, delegated: DelegatedAttestation, review: UserReview) -> Written:
    return Written(
        uid=submitted.uid,
        tx_hash=submitted.tx_hash,
        block_number=submitted.block_number,
        attester=delegated.attester,
        subject=review.subject,
    )


def _level(value: str | None) -> Any:
    if value in (None, "", *LEVELS):
        return value or None
    raise InputError(f"minLevel must be one of {', '.join(LEVELS)}, not {value!r}")


def _reviewed(uid: str | None) -> PaymentReviewedError:
    """The refusal of a payment that has its review (`uid`), or one being written (None)."""
    message = f"this payment already has a review: {uid}" if uid else "a review of this payment is being written"
    return PaymentReviewedError(message, uid)
