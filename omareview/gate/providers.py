"""The review providers a gate consults: the 402's allowlisted `read` links and the policy's own providers,
each fetched under the SSRF guard with bounded size and time, each answer kept for the policy's index age."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from pydantic import ValidationError

from omareview._cache import ExpiringCache
from omareview._json import loads_untrusted
from omareview.errors import FetchError, InputError
from omareview.gate.policy import Policy
from omareview.identity.fetch import SafeFetcher
from omareview.index.summary import IndexedReview, SubjectReviews
from omareview.x402.required import PaymentRequired
from omareview.x402.reviews import read_links

__all__ = ["PROVIDER_MAX_BYTES", "PROVIDER_TIMEOUT_S", "ProviderReader"]

#: Bounds of one read from a review provider.
PROVIDER_TIMEOUT_S = 3.0
PROVIDER_MAX_BYTES = 2 * 1024 * 1024
#: How many providers' answers are kept.
_MAX_ANSWERS = 1024


class ProviderReader:
    """Reads a subject's reviews from the providers a policy trusts.

    Parameters:
        policy: which providers are trusted (`provider_hosts`, `own_providers`) and for how long an answer is
            kept (`max_index_age_seconds`).
        fetcher: the guarded fetcher whose overrides, DNS server and environment trust the reads follow.
    """

    def __init__(self, policy: Policy, fetcher: SafeFetcher) -> None:
        self.policy = policy
        self._answers: ExpiringCache[str, tuple[str, list[IndexedReview]]] = ExpiringCache(
            policy.max_index_age_seconds, _MAX_ANSWERS
        )
        self._fetcher = SafeFetcher(
            overrides=fetcher.overrides,
            timeout_s=PROVIDER_TIMEOUT_S,
            max_bytes=PROVIDER_MAX_BYTES,
            dns_server=fetcher.dns_server,
            trust_env=fetcher.trust_env,
        )

    def reviews(self, url: str, subject: str, required: PaymentRequired, reasons: list[str]) -> list[IndexedReview]:
        """The subject's reviews at the providers the policy trusts: the 402's allowlisted `read` links and
        the policy's own providers, each fetched under the SSRF guard with bounded size and time."""
        listed = read_links({"extensions": required.extensions}, self.policy.provider_hosts())
        reasons.extend(f"reviews extension: {dropped}" for dropped in listed.dropped)
        urls = [link.url for link in listed.links]
        urls += [f"{base}/reviews?resource={quote(url, safe='')}" for base in self.policy.own_providers]
        found: list[IndexedReview] = []
        for read in dict.fromkeys(urls):
            reason, reviews = self._read(read, subject)
            reasons.append(reason)
            found += reviews
        return found

    def _read(self, read: str, subject: str) -> tuple[str, list[IndexedReview]]:
        """One provider's answer about `subject` (a reason line, and its reviews), fetched at most once per
        `max_index_age_seconds`, like the index's own sync: a warm decision asks no provider."""
        cached = self._answers.get(read)
        if cached is not None:
            return cached
        host = urlsplit(read).hostname
        reviews: list[IndexedReview] = []
        try:
            status, _, body = self._fetcher.fetch(read)
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
        self._answers.put(read, (reason, reviews))
        return reason, reviews
