"""A subject's judged reviews, summarized: which count (a level floor, refunds, self-dealing), their average,
histogram and history, what it would cost to move the average, and the page a reader asked for. Pure
functions over `IndexedReview`s, whichever index or provider they came from."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from omareview._wire import WireModel
from omareview.identity.dids import did_address
from omareview.index.context import LEVEL_RANK, LEVELS, NotCounted, ReviewLevel
from omareview.index.judgement import ProofVerdict, ReviewEvidence

if TYPE_CHECKING:
    pass

__all__ = [
    "HISTORY_POINTS",
    "AveragePoint",
    "CostToMove",
    "IndexedReview",
    "ReviewResponse",
    "SubjectReviews",
    "average_history",
    "cost_to_move",
    "counted_prices",
    "latest_per_attester",
    "summarize",
]


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
