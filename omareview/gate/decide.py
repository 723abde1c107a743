"""The pre-payment decision: given a 402 and the URL that returned it, `pay` (up to a limit), `ask`, or
`refuse`, with every reason. Evidence: the service's signed offers (verified, and their signer's
authorization for the host), its proven reviews from the local index, and AttestSeal headers (advisory)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import Field, ValidationError

from omareview._cache import ExpiringCache
from omareview._json import loads_untrusted
from omareview._offloop import async_face
from omareview._wire import WireModel
from omareview.errors import ChainError, ConfigError, FetchError, InputError, OmaReviewError
from omareview.gate.attestseal import SealResult, verify_seal
from omareview.gate.policy import DEFAULT_POLICY, Action, Policy
from omareview.gate.rules import OfferTerms, PolicyFacts, apply_policy
from omareview.identity._b64 import decode_header_value
from omareview.identity.authorization import default_resolver
from omareview.identity.dids import subject_did_from_url
from omareview.identity.didweb import DidWebResolver
from omareview.identity.fetch import SafeFetcher
from omareview.identity.verdict import ANSWER_TTL_S, authorization_cache
from omareview.index.context import LEVEL_RANK
from omareview.index.query import (
    IndexedReview,
    ReviewIndex,
    SubjectReviews,
    cost_to_move,
    counted_prices,
    latest_per_attester,
)
from omareview.x402.caip2 import to_caip2
from omareview.x402.load import LoadedArtifact, load_artifacts
from omareview.x402.reviews import read_links
from omareview.x402.verify import VerificationResult, VerifyOptions, verify_artifact
from omareview.x402.wire import requirement_amount

__all__ = [
    "MAX_CACHED_OFFERS",
    "PROVIDER_MAX_BYTES",
    "PROVIDER_TIMEOUT_S",
    "AsyncGate",
    "Decision",
    "Gate",
    "PaymentNotApprovedError",
]

#: How many verified offers a gate remembers (oldest forgotten first).
MAX_CACHED_OFFERS = 1024
#: How long `Gate.last_decision` remembers a decision.
DECISION_TTL_S = 3600.0
#: Bounds of one read from a review provider.
PROVIDER_TIMEOUT_S = 3.0
PROVIDER_MAX_BYTES = 2 * 1024 * 1024


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
    limit: dict[str, Any] | None = None
    offer: dict[str, Any] | None = None
    reasons: list[str] = Field(default_factory=list)
    offers: list[dict[str, Any]] = Field(default_factory=list)
    reviews: dict[str, Any] | None = None
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


def _payment_required(headers: Mapping[str, str], body: bytes | None) -> dict[str, Any]:
    header = headers.get("payment-required")
    try:
        value = loads_untrusted(decode_header_value(header) if header else body or b"", what="the 402")
    except (ValueError, InputError) as exc:
        raise InputError(
            "the 402 carries no readable payment requirements (no PAYMENT-REQUIRED header, no JSON body)",
            reason="bad-payment-required",
        ) from exc
    if not isinstance(value, dict) or not isinstance(value.get("accepts"), list):
        raise InputError("the 402's payment requirements have no accepts[] list", reason="bad-payment-required")
    if not all(isinstance(entry, dict) for entry in value["accepts"]):
        raise InputError("the 402's accepts[] holds something other than objects", reason="bad-payment-required")
    return value


def _matches(payload: Mapping[str, Any], accepts: list[dict[str, Any]]) -> bool:
    for entry in accepts:
        try:
            network = to_caip2(str(entry.get("network")))
        except InputError:
            continue
        amount = requirement_amount(entry)
        if (
            entry.get("scheme"),
            network,
            str(entry.get("asset")).lower(),
            str(entry.get("payTo")).lower(),
            str(amount),
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
        self._provider_answers: ExpiringCache[str, tuple[str, list[IndexedReview]]] = ExpiringCache(
            policy.max_index_age_seconds, MAX_CACHED_OFFERS
        )
        self._provider_fetcher = SafeFetcher(
            overrides=self.resolver.fetcher.overrides,
            timeout_s=PROVIDER_TIMEOUT_S,
            max_bytes=PROVIDER_MAX_BYTES,
            dns_server=self.resolver.fetcher.dns_server,
            trust_env=self.resolver.fetcher.trust_env,
        )

    def last_decision(self, url: str) -> Decision | None:
        """The latest decision about `url`, for an hour."""
        return self._decisions.get(url)

    def _offer_view(
        self, result: VerificationResult, accepts: list[dict[str, Any]], subject: str, now: int
    ) -> dict[str, Any]:
        payload = result.payload or {}
        problems = list(result.errors)
        if result.valid and result.subject != subject:
            problems.append(f"the offer is for {result.subject}, the 402 came from {subject}")
        if result.valid and not _matches(payload, accepts):
            problems.append("the offer's terms match no entry of accepts[]")
        valid_until = int(payload.get("validUntil") or 0)
        if valid_until and valid_until < now:
            problems.append(f"the offer expired at {valid_until}")
        authorized = (
            not problems
            and result.authorization.status == "authorized"
            and result.authorization.method in self.policy.authorized_methods
        )
        return {
            "valid": not problems,
            "authorized": authorized,
            "signer": result.signer.model_dump(exclude_none=True) if result.signer else None,
            "authorization": result.authorization.to_json(),
            "payload": payload,
            "errors": problems,
        }

    def _offers(self, message: dict[str, Any], subject: str, now: int) -> list[dict[str, Any]]:
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
        return [self._offer_view(self._verified(offer, options), message["accepts"], subject, now) for offer in loaded]

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

    def _provider_reviews(
        self, url: str, subject: str, message: dict[str, Any], reasons: list[str]
    ) -> list[IndexedReview]:
        """The subject's reviews at the providers the policy trusts: the 402's allowlisted `read` links and
        the policy's own providers, each fetched under the SSRF guard with bounded size and time."""
        listed = read_links(message, self.policy.provider_hosts())
        reasons.extend(f"reviews extension: {dropped}" for dropped in listed.dropped)
        urls = [link.url for link in listed.links]
        urls += [f"{base}/reviews?resource={quote(url, safe='')}" for base in self.policy.own_providers]
        found: list[IndexedReview] = []
        for read in dict.fromkeys(urls):
            reason, reviews = self._provider_read(read, subject)
            reasons.append(reason)
            found += reviews
        return found

    def _provider_read(self, read: str, subject: str) -> tuple[str, list[IndexedReview]]:
        """One provider's answer about `subject` (a reason line, and its reviews), fetched at most once per
        `max_index_age_seconds`, like the index's own sync: a warm decision asks no provider."""
        cached = self._provider_answers.get(read)
        if cached is not None:
            return cached
        host = urlsplit(read).hostname
        reviews: list[IndexedReview] = []
        try:
            status, _, body = self._provider_fetcher.fetch(read)
            if status != 200:
                raise InputError(f"it answered HTTP {status}")
            answer = SubjectReviews.model_validate(loads_untrusted(body, what=f"reviews from {host}"))
        except (InputError, FetchError, ValidationError, ValueError) as exc:
            reason = f"review provider {host} could not be read: {str(exc).splitlines()[0]}"
        else:
            if answer.subject != subject:
                reason = f"review provider {host} answered about {answer.subject}, not {subject}"
            else:
                reason, reviews = f"review provider {host}: {answer.count} review(s)", answer.reviews
        self._provider_answers.put(read, (reason, reviews))
        return reason, reviews

    def _reviews(self, url: str, subject: str, message: dict[str, Any], reasons: list[str]) -> dict[str, Any] | None:
        remote = self._provider_reviews(url, subject, message, reasons)
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
        message = _payment_required(lowered, body)
        now = int(time.time())
        reasons: list[str] = []
        offers = self._offers(message, subject, now)
        chosen = next((o for o in offers if o["authorized"]), None) or next((o for o in offers if o["valid"]), None)
        if not offers:
            reasons.append("the 402 carries no signed offer")
        for offer in offers:
            signer = (offer["signer"] or {}).get("address") or (offer["signer"] or {}).get("kid")
            if offer["authorized"]:
                reasons.append(
                    f"signed offer by {signer} is authorized for the host via {offer['authorization']['method']}"
                )
            elif offer["valid"]:
                reasons.append(
                    f"signed offer by {signer} is not authorized for the host ({offer['authorization']['detail']})"
                )
            else:
                reasons.append(f"a signed offer was refused: {'; '.join(offer['errors'])}")
        reviews = self._reviews(url, subject, message, reasons)
        host = urlsplit(url).hostname or ""
        seal = verify_seal(
            lowered, host, trusted_issuers=self.policy.attestseal.trusted_issuers, resolver=self.resolver
        )
        if seal is not None:
            reasons.append(f"AttestSeal: {seal.status}: {seal.detail}")
        action, tier, limit = self._apply(reviews, chosen, message, seal, reasons)
        decision = Decision(
            action=action,
            url=url,
            subject=subject,
            tier=tier,
            limit=limit,
            offer=chosen["payload"] if chosen else None,
            reasons=reasons,
            offers=offers,
            reviews=reviews,
            attestseal=seal,
        )
        self._decisions.put(url, decision)
        return decision

    def _apply(
        self,
        reviews: dict[str, Any] | None,
        chosen: dict[str, Any] | None,
        message: dict[str, Any],
        seal: SealResult | None,
        reasons: list[str],
    ) -> tuple[Action, str | None, dict[str, Any] | None]:
        """The facts this decision rests on, for the pure policy (`gate.rules`)."""
        terms = chosen["payload"] if chosen else None
        if terms is None:
            accepts = message["accepts"][0] if message["accepts"] else {}
            terms = {**accepts, "amount": requirement_amount(accepts)}
        cost = (reviews or {}).get("costToMove") or {}
        facts = PolicyFacts(
            reviews_known=reviews is not None,
            verified=reviews["verifiedCount"] if reviews else 0,
            average=reviews["verifiedAverage"] if reviews else None,
            cost_reviews=cost.get("reviews"),
            cost_amount=cost.get("amount"),
            authorized_offer=bool(chosen and chosen["authorized"]),
            seal=seal.recommendation if seal is not None and seal.status == "verified" else None,
            terms=OfferTerms(
                network=_text(terms.get("network")),
                asset=_text(terms.get("asset")),
                pay_to=_text(terms.get("payTo")),
                amount=_text(terms.get("amount")),
            ),
        )
        outcome = apply_policy(self.policy, facts)
        reasons.extend(outcome.reasons)
        return outcome.action, outcome.tier, outcome.limit.to_json() if outcome.limit is not None else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _summary(reviews: list[IndexedReview], *, stale: bool, synced_to: int | None) -> dict[str, Any]:
    """The summary the policy reads, over the index's and the providers' reviews together: one per UID, the
    latest per attester. Proven: the counted reviews (payment-backed or verified, the levels nobody can forge,
    neither refunded nor bought by the service itself: `IndexedReview.counted`)."""
    kept = latest_per_attester(reviews)
    counted = [r for r in kept if r.counted and r.level in ("paid", "verified") and r.rating_value]
    proven = [r.rating_value or 0 for r in counted]
    average = round(sum(proven) / len(proven), 2) if proven else None
    cost = cost_to_move(proven, counted_prices(counted)) if proven else None
    not_counted: dict[str, int] = {}
    for review in kept:
        if review.not_counted_because is not None:
            not_counted[review.not_counted_because] = not_counted.get(review.not_counted_because, 0) + 1
    return {
        "count": len(kept),
        "averageRating": average,
        "byLevel": {level: sum(r.level == level for r in kept) for level in LEVEL_RANK},
        "counted": len(proven),
        "verifiedCount": len(proven),
        "verifiedAverage": average,
        "notCounted": not_counted,
        "costToMove": cost.to_json() if cost is not None else None,
        "stale": stale,
        "syncedToBlock": synced_to,
    }


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
