"""The pre-payment decision: given a 402 and the URL that returned it, `pay` (up to a limit), `ask`, or
`refuse`, with every reason. Evidence: the service's signed offers (verified, and their signer's
authorization for the host), its proven reviews from the local index, and AttestSeal headers (advisory)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

from pydantic import Field, JsonValue

from omareview._cache import ExpiringCache
from omareview._json import JsonObject
from omareview._offloop import async_face
from omareview._wire import WireModel
from omareview.errors import ChainError, ConfigError, InputError, OmaReviewError
from omareview.gate.attestseal import SealResult, verify_seal
from omareview.gate.policy import DEFAULT_POLICY, Action, Policy
from omareview.gate.providers import ProviderReader
from omareview.gate.rules import OfferTerms, PaymentLimit, PolicyFacts, apply_policy
from omareview.identity.authorization import default_resolver
from omareview.identity.dids import subject_did_from_url
from omareview.identity.didweb import DidWebResolver
from omareview.identity.verdict import ANSWER_TTL_S, Authorization, SignerInfo, authorization_cache
from omareview.index.context import LEVELS, NotCounted, ReviewLevel
from omareview.index.query import ReviewIndex
from omareview.index.summary import (
    CostToMove,
    IndexedReview,
    SubjectReviews,
    cost_to_move,
    counted_prices,
    latest_per_attester,
)
from omareview.x402.caip2 import to_caip2
from omareview.x402.load import LoadedArtifact, load_artifacts
from omareview.x402.required import PaymentRequired, PaymentRequirement, parse_payment_required
from omareview.x402.verify import VerificationResult, VerifyOptions, verify_artifact

__all__ = [
    "MAX_CACHED_OFFERS",
    "AsyncGate",
    "Decision",
    "Gate",
    "OfferView",
    "PaymentNotApprovedError",
    "ReviewSummary",
]

#: How many verified offers a gate remembers (oldest forgotten first).
MAX_CACHED_OFFERS = 1024
#: How long `Gate.last_decision` remembers a decision.
DECISION_TTL_S = 3600.0
#: Bounds of one read from a review provider.


class OfferView(WireModel):
    """One signed offer of a 402, as the gate judged it.

    Attributes:
        valid: it verifies, is for the 402's subject, matches an `accepts[]` entry and has not expired.
        authorized: valid, and signed by a key the policy's authorization methods accept for the host.
        signer: who signed it.
        authorization: whether that signer speaks for the host, and by which source.
        payload: the signed terms, as signed.
        errors: why it is not valid.
    """

    valid: bool
    authorized: bool
    signer: SignerInfo | None
    authorization: Authorization
    payload: dict[str, JsonValue]
    errors: list[str]


class ReviewSummary(WireModel):
    """The subject's reviews as the policy reads them: the index's and the trusted providers' together, one
    per UID, the latest per attester.

    Attributes:
        count: how many reviews.
        average_rating: the counted reviews' average (None: none counted).
        by_level: how many at each level.
        counted: how many count: payment-backed or verified, neither refunded nor bought by the service.
        verified_count: the same count, by its older name.
        verified_average: the same average, by its older name.
        not_counted: how many are not counted, by why.
        cost_to_move: what it would take to move the counted average by half a star.
        stale: the index could not be synced, so it is read as it stood.
        synced_to_block: the block the index was synced to.
    """

    count: int
    average_rating: float | None
    by_level: dict[ReviewLevel, int]
    counted: int
    verified_count: int
    verified_average: float | None
    not_counted: dict[NotCounted, int]
    cost_to_move: CostToMove | None
    stale: bool
    synced_to_block: int | None


class Decision(WireModel):
    """The gate's decision about one 402, with the evidence behind it.

    Attributes:
        action: `pay`, `ask` or `refuse`.
        url: the URL that answered 402.
        subject: its subject DID.
        tier: the policy tier that approved payment, if one did.
        limit: the approved limit (`network`, `asset`, `amount`) when the action is `pay`.
        offer: the verified offer the decision rests on.
        reasons: why, in order, for a person.
        offers: every offer found, with its verification.
        reviews: the subject's review summary from the index, when one was consulted.
        attestseal: the advisory AttestSeal result, when the policy consults it.
    """

    action: Action
    url: str
    subject: str
    tier: str | None = None
    limit: PaymentLimit | None = None
    offer: dict[str, JsonValue] | None = None
    reasons: list[str] = Field(default_factory=list)
    offers: list[OfferView] = Field(default_factory=list)
    reviews: ReviewSummary | None = None
    attestseal: SealResult | None = None


class PaymentNotApprovedError(OmaReviewError):
    """The gate did not approve paying this 402; `decision` says why. Nothing was paid.

    Parameters:
        decision: the gate's decision.
    """

    default_reason = "payment-not-approved"

    def __init__(self, decision: Decision) -> None:
        super().__init__(f"payment to {decision.url} not approved ({decision.action}): {'; '.join(decision.reasons)}")
        self.decision = decision


def _matches(payload: Mapping[str, JsonValue], accepts: Sequence[PaymentRequirement]) -> bool:
    for entry in accepts:
        try:
            network = to_caip2(str(entry.network))
        except InputError:
            continue
        if (
            entry.scheme,
            network,
            str(entry.asset).lower(),
            str(entry.pay_to).lower(),
            str(entry.amount),
        ) == (
            payload.get("scheme"),
            payload.get("network"),
            str(payload.get("asset")).lower(),
            str(payload.get("payTo")).lower(),
            str(payload.get("amount")),
        ):
            return True
    return False


class Gate:
    """Decides before paying. Keeps the caches (authorizations, DID documents) and the index warm.

    Parameters:
        index: the review index to read the service's reviews from (None: decide from offers alone).
        policy: when to pay, ask or refuse, and up to how much.
        resolver: the did:web resolver to authorize offer signers with (None: the default, guarded one).
        dns_server: a DNS server for `_controllers` TXT look-ups (None: the system's).
    """

    def __init__(
        self,
        index: ReviewIndex | None = None,
        policy: Policy = DEFAULT_POLICY,
        *,
        resolver: DidWebResolver | None = None,
        dns_server: str | None = None,
    ) -> None:
        self.index = index
        self.policy = policy
        self.resolver = resolver or default_resolver()
        self.dns_server = dns_server
        self._authorizations = authorization_cache()
        self._last_sync = 0.0
        # Every answer kept has a lifetime: an offer's verification (its signer's authorization) as long as a
        # DID document is kept, the index's and the providers' answers for the policy's index age.
        self._decisions: ExpiringCache[str, Decision] = ExpiringCache(DECISION_TTL_S, MAX_CACHED_OFFERS)
        self._verifications: ExpiringCache[str, VerificationResult] = ExpiringCache(ANSWER_TTL_S, MAX_CACHED_OFFERS)
        self._subjects: ExpiringCache[str, tuple[float, SubjectReviews]] = ExpiringCache(
            policy.max_index_age_seconds, MAX_CACHED_OFFERS
        )
        self._providers = ProviderReader(policy, self.resolver.fetcher)

    def last_decision(self, url: str) -> Decision | None:
        """The latest decision about `url`, for an hour."""
        return self._decisions.get(url)

    def _offer_view(
        self, result: VerificationResult, accepts: Sequence[PaymentRequirement], subject: str, now: int
    ) -> OfferView:
        payload = result.payload or {}
        problems = list(result.errors)
        if result.valid and result.subject != subject:
            problems.append(f"the offer is for {result.subject}, the 402 came from {subject}")
        if result.valid and not _matches(payload, accepts):
            problems.append("the offer's terms match no entry of accepts[]")
        until = payload.get("validUntil")
        valid_until = until if isinstance(until, int) and not isinstance(until, bool) else 0
        if valid_until and valid_until < now:
            problems.append(f"the offer expired at {valid_until}")
        authorized = (
            not problems
            and result.authorization.status == "authorized"
            and result.authorization.method in self.policy.authorized_methods
        )
        return OfferView(
            valid=not problems,
            authorized=authorized,
            signer=result.signer,
            authorization=result.authorization,
            payload=payload,
            errors=problems,
        )

    def _offers(self, required: PaymentRequired, message: JsonObject, subject: str, now: int) -> list[OfferView]:
        try:
            loaded = load_artifacts(message, kind="offer")
        except InputError:
            return []
        context = self.index.judge_context if self.index is not None else None
        options = VerifyOptions(
            resolver=self.resolver,
            dns_server=self.dns_server,
            authorization_cache=self._authorizations,
            graph=context.graph if context is not None else None,
            witnesses=context.witnesses() if context is not None and context.graph is not None else None,
        )
        return [self._offer_view(self._verified(offer, options), required.accepts, subject, now) for offer in loaded]

    def _verified(self, offer: LoadedArtifact, options: VerifyOptions) -> VerificationResult:
        """An offer's verification, cached by its envelope: a service sends the same signed offer in every
        402, and re-checking its signature is most of a warm decision's cost."""
        key = json.dumps(offer.envelope, sort_keys=True, separators=(",", ":"))
        cached = self._verifications.get(key)
        if cached is not None:
            return cached
        result = verify_artifact(offer, options)
        self._verifications.put(key, result)
        return result

    def _reviews(self, url: str, subject: str, required: PaymentRequired, reasons: list[str]) -> ReviewSummary | None:
        remote = self._providers.reviews(url, subject, required, reasons)
        if self.index is None:
            if not remote:
                reasons.append("no review index is open, so no reviews were consulted")
                return None
            return _summary(remote, stale=False, synced_to=None)
        stale = False
        if time.monotonic() - self._last_sync > self.policy.max_index_age_seconds:
            try:
                self.index.sync(progress=_within(self.policy.sync_timeout_seconds))
                self._last_sync = time.monotonic()
            except ChainError as exc:
                stale = True
                reasons.append(
                    f"the review index could not be synced ({exc}); using it as of block {self.index.synced_to()}"
                )
        result = self._index_reviews(subject)
        return _summary([*result.reviews, *remote], stale=stale, synced_to=result.synced_to_block)

    def _index_reviews(self, subject: str) -> SubjectReviews:
        """The subject's reviews from the index, kept until the gate next syncs it (nothing else changes
        them) or the index may be stale anyway."""
        if self.index is None:
            raise ConfigError("the gate has no index to read reviews from")
        cached = self._subjects.get(subject)
        if cached is not None and cached[0] == self._last_sync:
            return cached[1]
        result = self.index.reviews(subject)
        self._subjects.put(subject, (self._last_sync, result))
        return result

    def decide(self, url: str, status: int, headers: Mapping[str, str], body: bytes | None) -> Decision:
        """Decide about one 402. InputError when the response is not a usable 402."""
        if status != 402:
            raise InputError(
                f"{url} answered HTTP {status}, not 402 Payment Required; there is nothing to decide",
                reason="bad-payment-required",
            )
        lowered = {k.lower(): v for k, v in headers.items()}
        subject = subject_did_from_url(url)
        required = parse_payment_required(lowered, body)
        message = required.to_json()
        now = int(time.time())
        reasons: list[str] = []
        offers = self._offers(required, message, subject, now)
        chosen = next((o for o in offers if o.authorized), None) or next((o for o in offers if o.valid), None)
        if not offers:
            reasons.append("the 402 carries no signed offer")
        for offer in offers:
            signer = (offer.signer.address or offer.signer.kid) if offer.signer is not None else None
            if offer.authorized:
                reasons.append(f"signed offer by {signer} is authorized for the host via {offer.authorization.method}")
            elif offer.valid:
                reasons.append(
                    f"signed offer by {signer} is not authorized for the host ({offer.authorization.detail})"
                )
            else:
                reasons.append(f"a signed offer was refused: {'; '.join(offer.errors)}")
        reviews = self._reviews(url, subject, required, reasons)
        host = urlsplit(url).hostname or ""
        seal = verify_seal(
            lowered, host, trusted_issuers=self.policy.attestseal.trusted_issuers, resolver=self.resolver
        )
        if seal is not None:
            reasons.append(f"AttestSeal: {seal.status}: {seal.detail}")
        action, tier, limit = self._apply(reviews, chosen, required, seal, reasons)
        decision = Decision(
            action=action,
            url=url,
            subject=subject,
            tier=tier,
            limit=limit,
            offer=chosen.payload if chosen else None,
            reasons=reasons,
            offers=offers,
            reviews=reviews,
            attestseal=seal,
        )
        self._decisions.put(url, decision)
        return decision

    def _apply(
        self,
        reviews: ReviewSummary | None,
        chosen: OfferView | None,
        required: PaymentRequired,
        seal: SealResult | None,
        reasons: list[str],
    ) -> tuple[Action, str | None, PaymentLimit | None]:
        """The facts this decision rests on, for the pure policy (`gate.rules`)."""
        if chosen is not None:
            signed = chosen.payload
            terms = OfferTerms(
                network=_text(signed.get("network")),
                asset=_text(signed.get("asset")),
                pay_to=_text(signed.get("payTo")),
                amount=_text(signed.get("amount")),
            )
        else:
            first = required.accepts[0] if required.accepts else PaymentRequirement()
            terms = OfferTerms(network=first.network, asset=first.asset, pay_to=first.pay_to, amount=first.amount)
        cost = reviews.cost_to_move if reviews is not None else None
        facts = PolicyFacts(
            reviews_known=reviews is not None,
            verified=reviews.verified_count if reviews else 0,
            average=reviews.verified_average if reviews else None,
            cost_reviews=cost.reviews if cost is not None else None,
            cost_amount=cost.amount if cost is not None else None,
            authorized_offer=bool(chosen and chosen.authorized),
            seal=seal.recommendation if seal is not None and seal.status == "verified" else None,
            terms=terms,
        )
        outcome = apply_policy(self.policy, facts)
        reasons.extend(outcome.reasons)
        return outcome.action, outcome.tier, outcome.limit


def _text(value: JsonValue) -> str | None:
    return None if value is None else str(value)


def _summary(reviews: list[IndexedReview], *, stale: bool, synced_to: int | None) -> ReviewSummary:
    """The summary the policy reads, over the index's and the providers' reviews together: one per UID, the
    latest per attester. Proven: the counted reviews (payment-backed or verified, the levels nobody can forge,
    neither refunded nor bought by the service itself: `IndexedReview.counted`)."""
    kept = latest_per_attester(reviews)
    counted = [r for r in kept if r.counted and r.level in ("paid", "verified") and r.rating_value]
    proven = [r.rating_value or 0 for r in counted]
    average = round(sum(proven) / len(proven), 2) if proven else None
    cost = cost_to_move(proven, counted_prices(counted)) if proven else None
    not_counted: dict[NotCounted, int] = {}
    for review in kept:
        if review.not_counted_because is not None:
            not_counted[review.not_counted_because] = not_counted.get(review.not_counted_because, 0) + 1
    return ReviewSummary(
        count=len(kept),
        average_rating=average,
        by_level={level: sum(r.level == level for r in kept) for level in LEVELS},
        counted=len(proven),
        verified_count=len(proven),
        verified_average=average,
        not_counted=not_counted,
        cost_to_move=cost,
        stale=stale,
        synced_to_block=synced_to,
    )


class AsyncGate:
    """The gate for asyncio agents: a decision (and the look-ups and index sync behind it) runs in a worker
    thread, off the event loop (`last_decision` does no I/O: use `gate`).

    Parameters:
        gate: the synchronous `Gate` whose caches are shared.
    """

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    decide = async_face(Gate.decide, "gate")


def _within(seconds: float) -> Callable[[int, int], None]:
    """A sync progress callback that stops a scan running past `seconds` (a ChainError, so the decision is
    made on the index as it stands); each range the scan reads is one step, so the overrun is one range."""
    deadline = time.monotonic() + seconds

    def check(block: int, head: int) -> None:
        if time.monotonic() > deadline:
            raise ChainError(
                f"the sync stopped at block {block} of {head} after {seconds:g} s (sync_timeout_seconds); "
                "`omareview index sync` or `index follow` catches up without a limit",
                reason="sync-timeout",
            )

    return check
