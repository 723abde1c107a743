"""The index as an application uses it: open, sync, and ask for a subject's reviews with their levels."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

from omareview._hashing import to_checksum_address
from omareview._offloop import async_face
from omareview.eas.rpc import RpcClient
from omareview.errors import InputError
from omareview.identity.dids import did_address, subject_did, web_domain
from omareview.identity.graph import IDENTITY_KINDS, IdentityAttestation
from omareview.index._rows import StoredReview
from omareview.index._store import StoreGraph, open_store
from omareview.index.context import JudgeContext, ReviewLevel
from omareview.index.judgement import Judgement
from omareview.index.summary import IndexedReview, ReviewResponse, SubjectReviews, latest_per_attester, summarize
from omareview.networks import Network, payment_networks
from omareview.schemas import USER_REVIEW, all_schemas, get_schema

if TYPE_CHECKING:
    from omareview.index.sync import Syncer, SyncResult

__all__ = [
    "JUDGEMENT_TTL_S",
    "REFUND_WATCH_S",
    "AsyncReviewIndex",
    "ReviewFilters",
    "ReviewIndex",
    "merged_reviews",
]

JUDGEMENT_TTL_S = 3600
#: How often a follower (or a provider's sync) asks the payment networks whether a paid review was refunded.
REFUND_WATCH_S = 15.0


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


def _stored_level(value: str) -> ReviewLevel:
    levels: dict[str, ReviewLevel] = {
        "paid": "paid",
        "verified": "verified",
        "signed": "signed",
        "unverified": "unverified",
        "invalid": "invalid",
    }
    return levels[value]


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


def merged_reviews(indexes: list[ReviewIndex], subject: str, **filters: Unpack[ReviewFilters]) -> SubjectReviews:
    """A subject's reviews across several networks' indexes: latest per attester over all of them (an EVM
    wallet is one reviewer on every chain), each marked with its network, summarized as one (the filters as
    `ReviewIndex.reviews`)."""
    rejudge = filters.get("rejudge", False)
    judged = latest_per_attester(r for index in indexes for r in index.judged(subject, rejudge=rejudge))
    blocks = [index.synced_to() for index in indexes]
    return summarize(
        subject_did(subject),
        judged,
        synced_to=min((b for b in blocks if b is not None), default=None),
        min_level=filters.get("min_level"),
        since=filters.get("since"),
        attester=filters.get("attester"),
        limit=filters.get("limit"),
        offset=filters.get("offset", 0),
        average_from=filters.get("average_from", "verified"),
        count_self_dealing=filters.get("count_self_dealing", False),
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
