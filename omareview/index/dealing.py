"""Self-dealing: a payment-backed review the reviewed party could have bought for itself.

A `paid` review proves that money moved from the reviewer to the service's `payTo`. When the reviewer is the
service, the money comes straight back and the review costs the service only gas. A review is self-dealing
when the payer its receipt names is:

- the `payTo` it paid (`self-payment`);
- a controller of the subject when it paid (`controller`): a wallet a counted Controller Witness names, an
  address the subject's did.json or `_controllers` TXT record lists, or the address of a key bound to the
  subject — the sources that authorize a receipt signer, asked about the payer — or a wallet a Linked
  Identifier ties to one of those or to the `payTo`;
- a wallet the service funded (`funded-by-service`): it received the payment asset from the `payTo` or
  from one of those wallets within `JudgeContext.funding_window_s` before paying, directly or through up to
  `JudgeContext.funding_hops` transfers (each hop costs one more batch of log queries).

Such reviews stay listed (they are real attestations) but are not counted in the average
(`omareview.index.query.summarize`). The funding check reads ERC-20 `Transfer` logs from each `payTo` to its
payers, every payment of a network in one batch (`PaymentVerifier.funded`).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from omareview.identity.graph import IdentityAttestation
from omareview.index.context import SELF_DEALING, JudgeContext, SelfDealing
from omareview.review.payment import FundingCheck

if TYPE_CHECKING:
    from omareview.review.evidence import PaymentEvidence

__all__ = ["SELF_DEALING", "SelfDealing", "self_dealing"]

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def self_dealing(
    subject: str, payments: Sequence[PaymentEvidence | None], context: JudgeContext
) -> list[SelfDealing | None]:
    """For each review's payment evidence (as judged; None: no payment), why it is self-dealing, or None."""
    found: list[SelfDealing | None] = [None] * len(payments)
    funding: list[tuple[int, FundingCheck]] = []
    domain = subject.removeprefix("did:web:").split("/", 1)[0] if subject.startswith("did:web:") else None
    listed: set[str] | None = None
    named: set[str] | None = None
    links: dict[str, list[IdentityAttestation]] = {}
    for index, payment in enumerate(payments):
        if payment is None or payment.status not in ("paid", "refunded"):
            continue
        payer, pay_to = (payment.payer or "").lower(), (payment.pay_to or "").lower()
        if not payer:
            continue
        if payer == pay_to:
            found[index] = "self-payment"
            continue
        if domain is not None:
            if listed is None or named is None:
                listed, named = _txt_controllers(domain, context), _named_addresses(subject, context)
            if (
                payer in listed
                or (payer in named and _controls(payer, domain, payment, context))
                or _linked(payer, {*listed, *named, pay_to} - {""}, payment, context, links)
            ):
                found[index] = "controller"
                continue
        if pay_to and payment.block_number is not None and payment.asset:
            check = FundingCheck(
                network=payment.network,
                asset=payment.asset,
                funders=frozenset({pay_to, *(listed or ()), *(named or ())} - {"", payer}),
                payer=payer,
                block_number=payment.block_number,
                window_s=context.funding_window_s,
                hops=context.funding_hops,
            )
            funding.append((index, check))
    if funding and context.payments is not None and context.funding_hops > 0:
        funded = context.payments.funded([check for _, check in funding])
        for (index, _), was_funded in zip(funding, funded, strict=True):
            if was_funded:
                found[index] = "funded-by-service"
    return found


def _txt_controllers(domain: str, context: JudgeContext) -> set[str]:
    """The EVM addresses the subject's `_controllers` TXT record names, read once per judging pass (a
    record that cannot be read names none)."""
    import dns.exception

    from omareview.identity.dns_txt import lookup_controllers

    try:
        records = lookup_controllers(domain, server=context.dns_server)
    except dns.exception.DNSException:
        return set()
    return {
        c.rsplit(":", 1)[-1].lower() for c in records.controllers if c.lower().startswith(("did:pkh:eip155:", "0x"))
    }


def _named_addresses(subject: str, context: JudgeContext) -> set[str]:
    """Every EVM address the subject's did.json, Controller Witnesses or Key Bindings mention: the only
    payers worth the full, time-aware controller check (read once per judging pass)."""
    from omareview.identity.authorization import default_resolver
    from omareview.identity.fetch import FetchError

    texts: list[str] = []
    with contextlib.suppress(FetchError):
        texts.append(json.dumps((context.resolver or default_resolver()).resolve(subject)))
    if context.graph is not None:
        for kind in ("controller-witness", "key-binding"):
            texts += [json.dumps(dict(a.fields)) for a in context.graph.about(subject, kind)]
    return {match.lower() for text in texts for match in _ADDRESS.findall(text)}


def _linked(
    payer: str,
    controllers: set[str],
    payment: PaymentEvidence,
    context: JudgeContext,
    links: dict[str, list[IdentityAttestation]],
) -> bool:
    """A Linked Identifier, written by either side and holding when it paid, ties the payer to one of the
    service's wallets. Each wallet's own links are read once per pass (`links`); only a payer that wrote a
    link, or that a service wallet's link mentions, is checked in full."""
    at = payment.paid_at
    if context.graph is None or at is None:
        return False
    from omareview.identity.links import link_between

    graph = context.graph
    for wallet in controllers:
        if wallet not in links:
            links[wallet] = list(graph.by(wallet, "linked-identifier"))
    mentioned = any(payer in json.dumps(dict(a.fields)).lower() for w in controllers for a in links[w])
    own = graph.by(payer, "linked-identifier")
    if not mentioned and not own:
        return False
    return any(
        link_between(graph, payer, wallet, at) is not None or link_between(graph, wallet, payer, at) is not None
        for wallet in controllers
    )


def _controls(payer: str, domain: str, payment: PaymentEvidence, context: JudgeContext) -> bool:
    """The payer was the subject's controller when it paid (a trusted witness, the did.json), or held a key
    bound to it; the TXT record is read once per pass by the caller."""
    from omareview.identity.authorization import authorize_signer, default_resolver

    at = payment.paid_at
    found = authorize_signer(
        payer,
        domain,
        resolver=context.resolver or default_resolver(),
        dns_server=context.dns_server,
        use_dns=False,
        at=at,
        graph=context.graph,
        witnesses=context.witnesses() if context.graph is not None else None,
    )
    return found.status == "authorized" and found.method in ("witness", "did-json", "key-binding")
