"""What judging shares across reviews, and the levels it gives, apart from the judging itself: reading a
warm index needs these, and judging (the x402 verifier, proof parsing, payment checks) loads only when a
review must be judged again."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

from omareview._cache import ExpiringCache
from omareview.errors import ConfigError
from omareview.identity.graph import IdentityGraph, WitnessIssuers, load_witness_issuers
from omareview.identity.verdict import AuthorizationCache, authorization_cache

if TYPE_CHECKING:
    from omareview.identity.didweb import DidWebResolver
    from omareview.review.payment import PaymentVerifier

__all__ = [
    "ADVERTISED_TTL_S",
    "LEVELS",
    "LEVEL_RANK",
    "NOT_COUNTED",
    "SELF_DEALING",
    "JudgeContext",
    "NotCounted",
    "ReviewLevel",
    "SelfDealing",
]

#: How long the `payTo` addresses a subject's own 402 advertises are kept.
ADVERTISED_TTL_S = 3600.0

#: A review's level, the one definition: what its proof shows, strongest first.
ReviewLevel = Literal["paid", "verified", "signed", "unverified", "invalid"]
LEVELS: tuple[ReviewLevel, ...] = get_args(ReviewLevel)
LEVEL_RANK: dict[str, int] = {level: len(LEVELS) - 1 - rank for rank, level in enumerate(LEVELS)}
#: How the reviewed party could have bought a review itself (`omareview.index.dealing`).
SelfDealing = Literal["self-payment", "controller", "funded-by-service"]
SELF_DEALING: tuple[SelfDealing, ...] = get_args(SelfDealing)
#: Why a review is not counted, as a stable code (`IndexedReview.not_counted_because`).
NotCounted = Literal["below-floor", "refunded", "self-payment", "controller", "funded-by-service"]
#: The same, in plain words, by its code.
NOT_COUNTED: dict[NotCounted, str] = {
    "below-floor": "its evidence is below the level the average counts",
    "refunded": "the payment went back to the reviewer",
    "self-payment": "the service's own payTo paid for it",
    "controller": "the reviewer controls the service",
    "funded-by-service": "the service funded the reviewer's wallet just before the payment",
}


@dataclass
class JudgeContext:
    """What judging shares across reviews: the resolver, DNS server, and the authorization cache.

    Parameters:
        authorize: check signer authorization (False: signature and binding only).
        resolver: the did:web resolver (None: the default, guarded one).
        dns_server: a DNS server for TXT look-ups (None: the system's).
        authorizations: the cache of live authorization answers, shared across reviews (each expires).
        payments: checks claimed payments on their networks (None: payments are not checked).
        advertised: the cache of `payTo` addresses subjects' own 402s advertise.
        graph: OMATrust's identity attestations (key bindings, witnesses, linked identifiers); None: the live
            sources only, and no linked wallets.
        trust_anchors: where the approved witness issuers are listed (a path or an HTTPS URL; None: no
            witness counts), read once on first need.
        funding_window_s: how long before a payment a transfer from the service to the payer makes its
            review self-dealing (`funded-by-service`).
        funding_hops: how many transfers may lie between the service and the payer (1: a direct one; each
            more costs one more batch of log queries, and flags more wallets that merely passed money on;
            0: no funding check).
    """

    authorize: bool = True
    resolver: DidWebResolver | None = None
    dns_server: str | None = None
    authorizations: AuthorizationCache = field(default_factory=authorization_cache)
    payments: PaymentVerifier | None = None
    advertised: ExpiringCache[tuple[str, str], frozenset[str]] = field(
        default_factory=lambda: ExpiringCache(ADVERTISED_TTL_S)
    )
    graph: IdentityGraph | None = None
    trust_anchors: str | None = None
    funding_window_s: float = 86_400.0
    funding_hops: int = 1
    _witnesses: WitnessIssuers | None = field(default=None, init=False, repr=False)

    def witnesses(self) -> WitnessIssuers:
        """The approved witness issuers (none when the document cannot be had: no witness counts then)."""
        if self._witnesses is None:
            issuers = WitnessIssuers([], "none")
            if self.trust_anchors:
                with contextlib.suppress(ConfigError):
                    fetch = self.resolver.fetcher.fetch if self.resolver is not None else None
                    issuers = load_witness_issuers(self.trust_anchors, fetch)
            self._witnesses = issuers
        return self._witnesses

    def payer_link(self, attester: str) -> Callable[[str, int], str | None] | None:
        """How a receipt paid by another wallet is bound to `attester`: a Linked Identifier in the graph."""
        graph = self.graph
        if graph is None:
            return None

        from omareview.identity.links import link_between

        def linked(payer: str, at: int) -> str | None:
            link = link_between(graph, attester, payer, at)
            return link.uid if link is not None else None

        return linked
