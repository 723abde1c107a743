"""The index as an application uses it: open, sync, and ask for a subject's reviews with their levels."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict

from pydantic import Field

from omareview._hashing import to_checksum_address
from omareview._offloop import async_face
from omareview._wire import WireModel
from omareview.eas.rpc import RpcClient
from omareview.errors import InputError
from omareview.identity.dids import did_address, subject_did, web_domain
from omareview.identity.graph import IDENTITY_KINDS, IdentityAttestation
from omareview.index._rows import StoredReview
from omareview.index._store import StoreGraph, open_store
from omareview.index.context import LEVEL_RANK, LEVELS, JudgeContext, NotCounted, ReviewLevel
from omareview.index.judgement import Judgement, ProofVerdict, ReviewEvidence
from omareview.networks import Network, payment_networks
from omareview.schemas import USER_REVIEW, all_schemas, get_schema

if TYPE_CHECKING:
    from omareview.index.sync import Syncer, SyncResult

__all__ = [
    "HISTORY_POINTS",
    "JUDGEMENT_TTL_S",
    "REFUND_WATCH_S",
    "AsyncReviewIndex",
    "AveragePoint",
    "CostToMove",
    "IndexedReview",
    "ReviewFilters",
    "ReviewIndex",
    "ReviewResponse",
    "SubjectReviews",
    "average_history",
    "cost_to_move",
    "counted_prices",
    "latest_per_attester",
    "merged_reviews",
    "summarize",
]

JUDGEMENT_TTL_S = 3600
#: How often a follower (or a provider's sync) asks the payment networks whether a paid review was refunded.
REFUND_WATCH_S = 15.0


class ReviewResponse(WireModel):
    """A User Review Response to a review.

    Attributes:
        uid: the response's UID.
        responder: who wrote it.
        time: when.
        response_body: its text.
        counted: whether the responder was the subject's controller at that time (only then is it the
            service's answer).
        tier: the source that made the responder the controller, when it was.
        reason: why it is not counted, when it is not.
    """

    uid: str
    responder: str
    time: int
    response_body: str
    counted: bool
    tier: str | None = None
    reason: str | None = None


class IndexedReview(WireModel):
    """One review as the index holds it, with its judged level.

    Attributes:
        uid: the attestation UID.
        attester: who wrote it.
        time: EAS time of the attestation.
        rating_value: 1 to 5 (None when the data does not decode).
        review_body: the review text.
        version: the reviewed service version.
        screenshot_urls: screenshot URLs.
        level: `paid`, `verified`, `signed`, `unverified` or `invalid`.
        proofs: each proof's verdict.
        reason: why the level is not `paid`, when it is not.
        evidence: what its best receipt, and the payment it claims, show.
        block_number: the block it was attested in.
        tx_hash: its transaction.
        legacy: written under an older User Review schema.
        network: the network whose EAS holds it.
        responses: the responses to it, oldest first; only `counted` ones are the service's.
        counted: whether it counts in the average and the histogram.
        not_counted_because: why not, as a stable code: `below-floor` (under the average's level floor),
            `refunded`, `self-payment`, `controller`, `funded-by-service` (`omareview.index.dealing`).
    """

    uid: str
    attester: str
    time: int
    rating_value: int | None
    review_body: str | None
    version: str | None
    screenshot_urls: list[str]
    level: ReviewLevel
    proofs: list[ProofVerdict] = Field(default_factory=list)
    reason: str | None = None
    evidence: ReviewEvidence | None = None
    block_number: int
    tx_hash: str
    legacy: bool = False
    network: str | None = None
    responses: list[ReviewResponse] = Field(default_factory=list)
    counted: bool = False
    not_counted_because: NotCounted | None = None


class CostToMove(WireModel):
    """What a newcomer would have to pay, under the counting rules, to move a counted average by half a star.

    Attributes:
        reviews: how many new counted, payment-backed reviews it takes (the cheaper direction).
        direction: `up` (five-star reviews) or `down` (one-star reviews).
        amount: that many times the lowest price a counted payment shows, in the asset's atomic units
            (None: no counted payment shows a price).
        asset: the asset of that price.
    """

    reviews: int
    direction: Literal["up", "down"]
    amount: str | None = None
    asset: str | None = None


class AveragePoint(WireModel):
    """The counted average as it stood after one counted review.

    Attributes:
        time: that review's EAS time.
        average: the average of the counted reviews up to it.
        counted: how many they were.
    """

    time: int
    average: float
    counted: int


#: The most points an average's history keeps: enough for a chart, bounded for a page and its JSON.
HISTORY_POINTS = 120


def average_history(counted: Sequence[IndexedReview]) -> list[AveragePoint]:
    """The running average of counted reviews in time order, thinned evenly to at most HISTORY_POINTS (the
    last point, today's average, always kept)."""
    points: list[AveragePoint] = []
    total = 0
    for number, review in enumerate(sorted(counted, key=lambda r: r.time), start=1):
        total += review.rating_value or 0
        points.append(AveragePoint(time=review.time, average=round(total / number, 2), counted=number))
    if len(points) <= HISTORY_POINTS:
        return points
    step = len(points) / HISTORY_POINTS
    return [points[min(len(points) - 1, round((i + 1) * step) - 1)] for i in range(HISTORY_POINTS)]


def cost_to_move(ratings: Sequence[int], prices: Sequence[tuple[int, str]]) -> CostToMove | None:
    """The fewest new counted reviews that move the average of `ratings` by half a star either way, priced
    at the lowest of `prices` (amount, asset); None when neither direction can move (no room above or below)."""
    count = len(ratings)
    options: list[tuple[int, Literal["up", "down"]]] = []
    if not count:
        options.append((1, "up"))
    else:
        average = sum(ratings) / count
        # k reviews of 5 (or 1) stars move the average by half a star when 0.5·count ≤ k·(distance to 5 (or 1)
        # less half a star); past 4.5 (or below 1.5) no number of them can.
        if average < 4.5:
            options.append((math.ceil(0.5 * count / (4.5 - average) - 1e-9), "up"))
        if average > 1.5:
            options.append((math.ceil(0.5 * count / (average - 1.5) - 1e-9), "down"))
    if not options:
        return None
    needed, direction = min(options)
    if not prices:
        return CostToMove(reviews=needed, direction=direction)
    price, asset = min(prices)
    return CostToMove(reviews=needed, direction=direction, amount=str(needed * price), asset=asset)


class SubjectReviews(WireModel):
    """A subject's reviews and their summary.

    Attributes:
        subject: the subject DID.
        recipient: its EAS recipient address.
        count: how many reviews the subject has (latest per reviewer).
        average_rating: the average of the counted reviews (None when none counts).
        average_from: the lowest level the average counts.
        by_level: how many reviews each level has.
        histogram: rating → how many counted reviews give it.
        reviews: the reviews listed (the filters' page), newest first.
        total: how many reviews the filters select, before the page.
        synced_to_block: the block the index was synced to.
        counted: how many reviews count in the average.
        cost_to_move: what moving the counted average by half a star would cost a newcomer.
        average_history: the counted average after each counted review, oldest first (thinned to at most
            HISTORY_POINTS).
    """

    subject: str
    recipient: str
    count: int
    average_rating: float | None
    average_from: ReviewLevel = "verified"
    by_level: dict[str, int]
    histogram: dict[str, int]
    reviews: list[IndexedReview]
    total: int
    synced_to_block: int | None = None
    counted: int = 0
    cost_to_move: CostToMove | None = None
    average_history: list[AveragePoint] = Field(default_factory=list)


class ReviewIndex:
    """The reviews of one network's EAS, kept in a local SQLite database.

    Parameters:
        network: the network to index.
        rpc: a JSON-RPC client to reuse (None: one for `network.rpc_url`).
        home: the omareview home holding the index (None: `$OMAREVIEW_HOME`).
        judge_context: how reviews are judged (None: full authorization with the default resolver).
        store: the store's URL (`postgresql://…`; None: `$OMAREVIEW_STORE`, `store` in config.toml, else the
            embedded SQLite file under `home`).
    """

    def __init__(
        self,
        network: Network,
        *,
        rpc: RpcClient | None = None,
        home: Path | None = None,
        judge_context: JudgeContext | None = None,
        store: str | None = None,
    ) -> None:
        self.network = network
        self.rpc = rpc or RpcClient(network.rpc_url)
        self.store = open_store(network.name, network.chain_id, network.eas_address, store=store, home=home)
        shared = judge_context or JudgeContext()
        # This network's own payment networks, identity graph and trust anchors; the caches stay shared, so
        # one context can serve several networks' indexes.
        self._judge_context = dataclasses.replace(
            shared,
            graph=shared.graph or StoreGraph(self.store),
            trust_anchors=shared.trust_anchors or network.trust_anchors,
        )
        self._home = home
        self._refunds_watched = float("-inf")
        current = network.schema_uid(USER_REVIEW)
        schema_strings = {current: get_schema(USER_REVIEW).schema_string}
        legacy = {s.uid for s in all_schemas() if s.legacy and s.kind == USER_REVIEW}
        schema_strings.update({s.uid: s.schema_string for s in all_schemas() if s.uid in legacy})
        self.schema_uids = sorted(uid.lower() for uid in schema_strings)
        self._schema_strings, self._legacy = schema_strings, legacy
        self._deployment_checked = False

    @property
    def judge_context(self) -> JudgeContext:
        """How this index judges: the caller's context with this network's identity graph, trust anchors and
        payment verifier (made at first use, so reading a warm index loads no payment code)."""
        if self._judge_context.payments is None:
            from omareview.review.payment import PaymentVerifier

            verifier = PaymentVerifier(payment_networks(self.network, self._home))
            self._judge_context = dataclasses.replace(self._judge_context, payments=verifier)
        return self._judge_context

    @cached_property
    def syncer(self) -> Syncer:
        """The log scanner and decoder, made at the first sync: a read of a warm index needs none."""
        from omareview.index.sync import Syncer

        network = self.network
        identity = {
            network.schemas[kind]: (kind, get_schema(kind).schema_string)
            for kind in IDENTITY_KINDS
            if kind in network.schemas
        }
        # The prior, non-revocable Key Binding and Linked Identifier schemas: their attestations still count.
        identity.update(
            {s.uid: (s.kind, s.schema_string) for s in all_schemas() if s.legacy and s.kind in IDENTITY_KINDS}
        )
        return Syncer(
            self.rpc,
            self.store,
            network.eas_address,
            network.deployment_block,
            self._schema_strings,
            self._legacy,
            identity,
        )

    def sync(self, progress: Callable[[int, int], None] | None = None) -> SyncResult:
        """Bring the index up to date (the first sync checks the node's chain and the EAS contract first)."""
        if not self._deployment_checked:
            self.rpc.check_deployment(self.network.eas_address, self.network.chain_id, self.network.name)
            self._deployment_checked = True
        return self.syncer.sync(progress)

    def close(self) -> None:
        """Close the store (its file, or its connection pool)."""
        self.store.close()

    def __enter__(self) -> ReviewIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def watch_refunds(self) -> int:
        """Have every `paid` review whose money has gone back to its payer since judged again now, rather
        than when its judgement's lifetime ends: one batch of log queries per payment network. How many."""
        verifier = self.judge_context.payments
        if verifier is None:
            return 0
        refunded = verifier.refunded(self.store.paid_payments())
        self.store.unjudge(refunded)
        return len(refunded)

    def judge_pending(self) -> int:
        """Judge every subject with a review not judged yet (or whose payment was undecided, or was refunded
        since: the refund watch runs first, at most every REFUND_WATCH_S); how many."""
        if time.monotonic() - self._refunds_watched >= REFUND_WATCH_S:
            self._refunds_watched = time.monotonic()
            self.watch_refunds()
        subjects = self.store.unjudged_subjects()
        for subject in subjects:
            try:
                self.reviews(subject)
            except InputError:
                continue
        return len(subjects)

    def synced_to(self) -> int | None:
        cursors = self.store.cursors()
        return min((block for block, _ in cursors.values()), default=None) if cursors else None

    def _judge(self, rows: list[StoredReview], subject: str) -> list[tuple[ReviewLevel, Judgement]]:
        """Judge what is stale; the judge (the x402 verifier, proofs, payment checks) loads only then."""
        if not rows:
            return []
        from omareview.index.judge import judge_many

        return judge_many(rows, subject, self.judge_context)

    def judged(self, subject: str, *, rejudge: bool = False) -> list[IndexedReview]:
        """The judging step: the subject's latest review per attester (a DID or a URL), each with its level
        and the responses to it. A review whose judgement is missing, older than JUDGEMENT_TTL_S, undecided
        (a payment not final, a network down) or, with `rejudge`, any, is judged now and the verdict saved;
        the others are read as stored."""
        did = subject_did(subject)
        recipient = did_address(did)
        latest, superseded = self.store.latest_reviews_of(recipient, self.schema_uids)
        now = int(time.time())
        stale = [
            row
            for row in latest
            if rejudge
            or row.level is None
            or row.judgement is None
            or row.judged_at is None
            or now - row.judged_at > JUDGEMENT_TTL_S
        ]
        fresh = dict(zip((row.uid for row in stale), self._judge(stale, did), strict=True))
        judged, to_save = [], []
        for row in latest:
            if row.uid in fresh:
                level, judgement = fresh[row.uid]
                # An undecided payment (network down, not final) is judged again next time, never kept.
                to_save.append((row.uid, level, judgement, 0 if judgement.recheck else now))
            else:
                level, judgement = _stored_level(row.level or "invalid"), row.judgement or Judgement()
            judged.append(_entry(row, level, judgement, self.network.name))
        if to_save:
            self.store.save_judgements(to_save)
        _attach_responses(self.store.responses_to([r.uid for r in judged]), judged, did, self._judge_context)
        if superseded:
            self.store.mark_superseded(superseded, now)
        return judged

    def reviews(
        self,
        subject: str,
        *,
        min_level: ReviewLevel | None = None,
        since: int | None = None,
        attester: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        rejudge: bool = False,
        average_from: ReviewLevel = "verified",
        count_self_dealing: bool = False,
    ) -> SubjectReviews:
        """The subject's reviews (a DID or a URL) as `judged` gives them, summarized over them all, the list
        filtered and paginated. `averageRating` and the histogram count the reviews at or above
        `average_from` (by default `verified`: paid and verified reviews, which nobody can forge) that were
        not refunded and are not self-dealing (`count_self_dealing` counts those too)."""
        did = subject_did(subject)
        return summarize(
            did,
            self.judged(did, rejudge=rejudge),
            min_level=min_level,
            since=since,
            attester=attester,
            limit=limit,
            offset=offset,
            average_from=average_from,
            synced_to=self.synced_to(),
            count_self_dealing=count_self_dealing,
        )


def _attach_responses(
    found: dict[str, list[IdentityAttestation]], judged: list[IndexedReview], subject: str, context: JudgeContext
) -> None:
    """Each review's responses, counted when the responder was the subject's controller at the response's
    time (by the same sources as a receipt's signer, `payTo` excepted)."""
    domain = web_domain(subject)
    if not any(review.uid in found for review in judged):
        return
    from omareview.identity.authorization import authorize_signer

    for review in judged:
        for response in found.get(review.uid, []):
            tier: str | None = None
            reason: str | None = f"{subject} has no controller omareview can check"
            if domain is not None:
                authorization = authorize_signer(
                    response.attester,
                    domain,
                    resolver=context.resolver,
                    dns_server=context.dns_server,
                    at=response.time,
                    graph=context.graph,
                    witnesses=context.witnesses(),
                    cache=context.authorizations,
                )
                counted = authorization.status == "authorized"
                tier, reason = (authorization.method, None) if counted else (None, authorization.detail)
            review.responses.append(
                ReviewResponse(
                    uid=response.uid,
                    responder=to_checksum_address(response.attester),
                    time=response.time,
                    response_body=response.text("responseBody"),
                    counted=reason is None,
                    tier=tier,
                    reason=reason,
                )
            )


def summarize(
    did: str,
    judged: list[IndexedReview],
    *,
    min_level: ReviewLevel | None = None,
    since: int | None = None,
    attester: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    average_from: ReviewLevel = "verified",
    synced_to: int | None = None,
    count_self_dealing: bool = False,
) -> SubjectReviews:
    """The summary of a subject's judged reviews (newest first) and the page of them the filters select.
    A review counts in the average and the histogram when it is at or above `average_from`, its payment
    was not refunded, and it is not self-dealing (unless `count_self_dealing`); each says why not."""
    judged = [_counting(r, LEVEL_RANK[average_from], count_self_dealing) for r in judged]
    counted = [r for r in judged if r.counted]
    by_level = {level: sum(r.level == level for r in judged) for level in LEVELS}
    histogram = {str(star): sum(r.rating_value == star for r in counted) for star in range(1, 6)}
    average = round(sum(r.rating_value or 0 for r in counted) / len(counted), 2) if counted else None
    listed = [
        r
        for r in judged
        if (min_level is None or LEVEL_RANK[r.level] >= LEVEL_RANK[min_level])
        and (since is None or r.time >= since)
        and (attester is None or r.attester.lower() == attester.lower())
    ]
    page = listed[offset : offset + limit if limit is not None else None]
    return SubjectReviews(
        subject=did,
        recipient=did_address(did),
        count=len(judged),
        average_rating=average,
        average_from=average_from,
        by_level=by_level,
        histogram=histogram,
        reviews=page,
        total=len(listed),
        synced_to_block=synced_to,
        counted=len(counted),
        cost_to_move=cost_to_move([r.rating_value or 0 for r in counted], counted_prices(counted)),
        average_history=average_history(counted),
    )


def counted_prices(reviews: Sequence[IndexedReview]) -> list[tuple[int, str]]:
    """(amount, asset) of each review's confirmed payment: what a purchase of the service costs."""
    found = []
    for review in reviews:
        payment = review.evidence.payment if review.evidence is not None else None
        if payment is None or payment.status != "paid" or not payment.asset:
            continue
        if payment.amount is not None and payment.amount.isdigit():
            found.append((int(payment.amount), payment.asset))
    return found


def _counting(review: IndexedReview, floor: int, count_self_dealing: bool) -> IndexedReview:
    """The review with whether it counts, and why not."""
    payment = review.evidence.payment if review.evidence is not None else None
    dealing = review.evidence.self_dealing if review.evidence is not None else None
    why: NotCounted | None = None
    if LEVEL_RANK[review.level] < floor or review.rating_value is None or not 1 <= review.rating_value <= 5:
        why = "below-floor"
    elif dealing is not None and not count_self_dealing:
        why = dealing  # before `refunded`: a payTo paying itself reads as its own refund
    elif payment is not None and payment.status == "refunded":
        why = "refunded"
    return review.model_copy(update={"counted": why is None, "not_counted_because": why})


def _stored_level(value: str) -> ReviewLevel:
    levels: dict[str, ReviewLevel] = {
        "paid": "paid",
        "verified": "verified",
        "signed": "signed",
        "unverified": "unverified",
        "invalid": "invalid",
    }
    return levels[value]


def latest_per_attester(reviews: Iterable[IndexedReview]) -> list[IndexedReview]:
    """One review per UID (the first met), then the latest per attester across every source, newest first:
    an EVM wallet is one reviewer on every chain and at every provider."""
    latest: dict[str, IndexedReview] = {}
    seen: set[str] = set()
    for review in reviews:
        if review.uid.lower() in seen:
            continue
        seen.add(review.uid.lower())
        kept = latest.get(review.attester.lower())
        if kept is None or (review.time, review.block_number) > (kept.time, kept.block_number):
            latest[review.attester.lower()] = review
    return sorted(latest.values(), key=lambda r: (r.time, r.block_number), reverse=True)


class ReviewFilters(TypedDict, total=False):
    """The filters `ReviewIndex.reviews` and `merged_reviews` take, as one value a caller can pass on."""

    min_level: ReviewLevel | None
    since: int | None
    attester: str | None
    limit: int | None
    offset: int
    rejudge: bool
    average_from: ReviewLevel
    count_self_dealing: bool


def merged_reviews(
    indexes: list[ReviewIndex],
    subject: str,
    *,
    min_level: ReviewLevel | None = None,
    since: int | None = None,
    attester: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    rejudge: bool = False,
    average_from: ReviewLevel = "verified",
    count_self_dealing: bool = False,
) -> SubjectReviews:
    """A subject's reviews across several networks' indexes: latest per attester over all of them (an EVM
    wallet is one reviewer on every chain), each marked with its network, summarized as one (the filters as
    `ReviewIndex.reviews`)."""
    judged = latest_per_attester(r for index in indexes for r in index.judged(subject, rejudge=rejudge))
    blocks = [index.synced_to() for index in indexes]
    return summarize(
        subject_did(subject),
        judged,
        average_from=average_from,
        synced_to=min((b for b in blocks if b is not None), default=None),
        count_self_dealing=count_self_dealing,
        min_level=min_level,
        since=since,
        attester=attester,
        limit=limit,
        offset=offset,
    )


def _entry(row: StoredReview, level: ReviewLevel, judgement: Judgement, network: str) -> IndexedReview:
    return IndexedReview(
        uid=row.uid,
        attester=to_checksum_address(row.attester),
        time=row.time,
        rating_value=row.rating_value,
        review_body=row.review_body,
        version=row.version,
        screenshot_urls=list(row.screenshot_urls),
        level=level,
        proofs=judgement.proofs,
        reason=judgement.reason,
        evidence=judgement.evidence,
        block_number=row.block_number,
        tx_hash=row.tx_hash,
        legacy=row.legacy,
        network=network,
    )


class AsyncReviewIndex:
    """The index for asyncio agents: every method of `ReviewIndex`, with its parameters, syncing and judging
    run in a worker thread, off the event loop.

    Parameters:
        index: the synchronous `ReviewIndex` whose work is run.
    """

    def __init__(self, index: ReviewIndex) -> None:
        self.index = index

    close = async_face(ReviewIndex.close, "index")
    judge_pending = async_face(ReviewIndex.judge_pending, "index")
    judged = async_face(ReviewIndex.judged, "index")
    reviews = async_face(ReviewIndex.reviews, "index")
    sync = async_face(ReviewIndex.sync, "index")
    synced_to = async_face(ReviewIndex.synced_to, "index")
    watch_refunds = async_face(ReviewIndex.watch_refunds, "index")
