"""The payment policy as a pure function: the facts a decision rests on in, the action, tier, limit and
reasons out. No network, no index, no clock: `Gate` gathers the facts, this decides, and
`tests/vectors/gate_policy.json` holds the decisions for a table of facts without a devnet."""

from __future__ import annotations

from omareview._wire import WireModel
from omareview.gate.policy import Action, Policy

__all__ = ["OfferTerms", "PaymentLimit", "PolicyFacts", "PolicyOutcome", "apply_policy"]


class OfferTerms(WireModel):
    """What the 402 asks to be paid: the chosen signed offer's terms, else its first requirement's.

    Attributes:
        network: the CAIP-2 network.
        asset: the asset's address.
        pay_to: the receiving address.
        amount: the amount in atomic units, as given (None or not digits: unknown).
    """

    network: str | None = None
    asset: str | None = None
    pay_to: str | None = None
    amount: str | None = None


class PaymentLimit(WireModel):
    """What a `pay` decision approves: this network, asset and `payTo`, up to `amount` atomic units.

    Attributes:
        network: the CAIP-2 network.
        asset: the asset's address.
        pay_to: the receiving address.
        amount: the most that may be paid, in atomic units.
    """

    network: str | None
    asset: str | None
    pay_to: str | None
    amount: str


class PolicyFacts(WireModel):
    """What the policy decides on.

    Attributes:
        reviews_known: whether the subject's reviews could be read at all (an index or a provider).
        verified: how many counted, proven reviews the subject has.
        average: their average (None: none).
        cost_reviews: how many new counted reviews would move that average by half a star (None: unknown).
        cost_amount: what they would cost, in atomic units (None: no counted payment shows a price).
        authorized_offer: whether the 402 carries a signed offer its host authorizes.
        seal: a verified AttestSeal recommendation (`ALLOW`, `CAUTION`, `DENY`), else None.
        terms: what the 402 asks to be paid.
    """

    reviews_known: bool = True
    verified: int = 0
    average: float | None = None
    cost_reviews: int | None = None
    cost_amount: str | None = None
    authorized_offer: bool = False
    seal: str | None = None
    terms: OfferTerms = OfferTerms()


class PolicyOutcome(WireModel):
    """The policy's answer.

    Attributes:
        action: `pay`, `ask` or `refuse`.
        tier: the tier that decided (None: none did).
        limit: what `pay` approves (None for `ask` and `refuse`).
        reasons: why, in order, for a person.
    """

    action: Action
    tier: str | None = None
    limit: PaymentLimit | None = None
    reasons: list[str]


def apply_policy(policy: Policy, facts: PolicyFacts) -> PolicyOutcome:
    """Decide: refuse on a proven low average, a cheap-to-move average or (as the policy says) a verified
    AttestSeal DENY; else pay under the first tier whose conditions hold and whose limit covers the amount;
    else the policy's `otherwise`."""
    reasons: list[str] = []
    verified, average = facts.verified, facts.average
    if facts.reviews_known:
        reasons.append(f"{verified} verified review(s)" + (f", average {average}" if average is not None else ""))
    if (
        policy.refuse_below_average is not None
        and average is not None
        and verified >= policy.refuse_min_reviews
        and average < policy.refuse_below_average
    ):
        reasons.append(f"refused: the proven average {average} is below {policy.refuse_below_average}")
        return PolicyOutcome(action="refuse", reasons=reasons)
    if policy.min_cost_to_move is not None and verified and facts.cost_reviews is not None:
        price = int(facts.cost_amount) if facts.cost_amount and facts.cost_amount.isdigit() else None
        if price is None or price < policy.min_cost_to_move:
            shown = f"{facts.cost_reviews} review(s), {price if price is not None else 'an unknown amount'}"
            reasons.append(
                f"refused: moving the average by half a star would cost {shown}, under the policy's "
                f"min_cost_to_move {policy.min_cost_to_move}"
            )
            return PolicyOutcome(action="refuse", reasons=reasons)
    if facts.seal == "DENY" and policy.attestseal.deny == "refuse":
        reasons.append("refused: a verified AttestSeal DENY, as the policy says")
        return PolicyOutcome(action="refuse", reasons=reasons)
    cap_at_ask = (facts.seal == "DENY" and policy.attestseal.deny == "ask") or (
        facts.seal == "CAUTION" and policy.attestseal.caution == "ask"
    )
    terms = facts.terms
    amount = int(terms.amount) if terms.amount is not None and terms.amount.isdigit() else None
    for tier in policy.tiers:
        if verified < tier.min_verified_reviews or (
            tier.min_average is not None and (average is None or average < tier.min_average)
        ):
            continue
        if tier.require_authorized_offer and not facts.authorized_offer:
            continue
        limit = tier.limit_for(str(terms.network), str(terms.asset))
        if limit is None or amount is None or amount > limit:
            reasons.append(f"tier {tier.name}: the amount {amount} exceeds its limit {limit}")
            continue
        if cap_at_ask:
            reasons.append(f"tier {tier.name} would pay, but the policy asks on this AttestSeal recommendation")
            return PolicyOutcome(action="ask", tier=tier.name, reasons=reasons)
        reasons.append(f"tier {tier.name}: pay up to {limit}")
        approved = PaymentLimit(network=terms.network, asset=terms.asset, pay_to=terms.pay_to, amount=str(limit))
        return PolicyOutcome(action="pay", tier=tier.name, limit=approved, reasons=reasons)
    reasons.append(f"no tier of the policy applies: {policy.otherwise}")
    return PolicyOutcome(action=policy.otherwise, reasons=reasons)
