"""What the payment network says about a claimed payment, apart from the checking
(`omareview.review.payment`), so that reading a judged review loads no payment code."""

from __future__ import annotations

from typing import Literal

from omareview._wire import WireModel

__all__ = ["PaymentEvidence", "PaymentStatus"]

PaymentStatus = Literal["paid", "pending", "refunded", "unpaid", "unavailable", "unsupported-network"]


class PaymentEvidence(WireModel):
    """What the payment network says about one claimed payment.

    Attributes:
        status: `paid`, `pending` (not final yet), `refunded`, `unpaid`, `unavailable` (the network could not
            be asked) or `unsupported-network`.
        network: the payment's network.
        tx_hash: the settlement transaction (found by search when the review named none).
        payer: who paid (the receipt's payer).
        paid_at: when, as the receipt says (its `issuedAt`).
        asset: the asset that moved, when a transfer from the payer was found.
        amount: how much of it moved to the bound `payTo`.
        pay_to: where it went.
        refunded: a transfer of that asset went back from `payTo` to the payer afterwards.
        block_number: the block the settlement is in.
        reason: why the status is not `paid`.
    """

    json_exclude_none = True

    status: PaymentStatus
    network: str
    tx_hash: str | None = None
    payer: str | None = None
    paid_at: int | None = None
    asset: str | None = None
    amount: str | None = None
    pay_to: str | None = None
    refunded: bool = False
    block_number: int | None = None
    reason: str | None = None
