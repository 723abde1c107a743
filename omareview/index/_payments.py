"""The provider's records in the index store: one review per payment, and who is writing it. Each step is
one statement, so two claimants (threads or processes) never both win."""

from __future__ import annotations

from dataclasses import dataclass

from omareview.index._engines import Engine

__all__ = ["PaymentClaim", "PaymentRecords"]


@dataclass(frozen=True)
class PaymentClaim:
    """The outcome of claiming a payment's one review.

    Attributes:
        claimed: this claimant holds it now.
        uid: the review it was written as, when finished.
        owner: who holds it (None for a claim made before owners were recorded).
    """

    claimed: bool
    uid: str | None
    owner: str | None


class PaymentRecords:
    """The `payment_reviews` table.

    Parameters:
        engine: where it lives (the index store's engine).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.transaction = engine.transaction

    def claim(self, payment: str, attester: str, owner: str, now: int, lease_s: int) -> PaymentClaim:
        """Claim the one review of `payment` for `attester` as `owner`. One statement, so two claimants
        (threads or processes) never both win. A claim whose sender vanished is taken over once its lease is
        over; a finished one never. When not claimed, says who holds it (or the UID it was written as)."""
        with self.transaction() as tx:
            claimed = tx.execute(
                "INSERT INTO payment_reviews (payment, attester, state, uid, claimed_at, owner) "
                "VALUES (?, ?, 'sending', NULL, ?, ?) ON CONFLICT (payment) DO UPDATE SET "
                "attester = excluded.attester, state = 'sending', uid = NULL, claimed_at = excluded.claimed_at, "
                "owner = excluded.owner WHERE payment_reviews.state <> 'done' AND payment_reviews.claimed_at < ?",
                (payment, attester.lower(), now, owner, now - lease_s),
            )
            if claimed:
                return PaymentClaim(True, None, owner)
            found = tx.rows("SELECT uid, owner FROM payment_reviews WHERE payment = ?", (payment,))
        if not found:
            return PaymentClaim(False, None, None)
        return PaymentClaim(False, found[0]["uid"], found[0]["owner"])

    def take_over(self, payment: str, attester: str, gone: str, owner: str, now: int) -> bool:
        """Take an unfinished claim over from `gone`, an owner known to be dead; False when another
        claimant took it first or it was finished meanwhile."""
        with self.transaction() as tx:
            return bool(
                tx.execute(
                    "UPDATE payment_reviews SET attester = ?, owner = ?, claimed_at = ? "
                    "WHERE payment = ? AND state = 'sending' AND owner = ?",
                    (attester.lower(), owner, now, payment, gone),
                )
            )

    def settle(self, payment: str, uid: str | None) -> None:
        """The claimed review of `payment` is on-chain as `uid` (None: it was not sent; the claim is dropped)."""
        with self.transaction() as tx:
            if uid is None:
                tx.execute("DELETE FROM payment_reviews WHERE payment = ? AND state = 'sending'", (payment,))
            else:
                tx.execute("UPDATE payment_reviews SET state = 'done', uid = ? WHERE payment = ?", (uid, payment))

    def review_of(self, payment: str, *, in_flight: bool = False) -> str | None:
        """The UID of the review written for `payment`, once it is on-chain; with `in_flight`, also "" while
        one is being written."""
        found = self.engine.rows("SELECT uid, state FROM payment_reviews WHERE payment = ?", (payment,))
        if not found or (found[0]["state"] != "done" and not in_flight):
            return None
        return str(found[0]["uid"] or "")
