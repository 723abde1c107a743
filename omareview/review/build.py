"""Building a review from a verified receipt (a "verified purchase"), or from a subject alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from omareview._hashing import is_address, to_checksum_address
from omareview.errors import InputError, Reason
from omareview.review.model import UserReview, new_review
from omareview.review.proofs import Proof
from omareview.x402.load import LoadedArtifact
from omareview.x402.verify import VerificationResult, VerifyOptions, verify_artifact

__all__ = ["check_payer_is_attester", "review_from_receipt", "review_of_subject"]


def check_payer_is_attester(payer: str, attester: str) -> None:
    """A receipt proves a purchase by its payer; only that wallet may attest to it."""
    same = is_address(payer) and is_address(attester) and to_checksum_address(payer) == to_checksum_address(attester)
    if not same:
        raise InputError(
            f"the receipt's payer is {payer} but the signing wallet is {attester}; "
            "a receipt can only back a review signed by the wallet that paid",
            reason="payer-not-attester",
        )


def review_from_receipt(
    receipt: LoadedArtifact,
    attester: str,
    *,
    rating: int,
    body: str = "",
    screenshots: Sequence[str] = (),
    version: str = "",
    offer: LoadedArtifact | None = None,
    options: VerifyOptions | None = None,
    payer_link: Callable[[str], str | None] | None = None,
) -> tuple[UserReview, VerificationResult]:
    """A review whose subject comes from the receipt's `resourceUrl` and whose proofs carry the receipt
    (and the matching signed offer, if given) exactly as received: only proofs the OMATrust specification
    defines for what they are. No pointer to the settlement is added (a `tx-interaction` proof means a
    transaction by the attester to the subject's contract, and OMATrust's verifier looks it up on the
    review's own chain); readers find the payment from what the receipt and offer prove. Refuses a
    receipt that does not verify, or whose payer is not `attester` (unless `payer_link`, given the payer,
    names a Linked Identifier that binds it to `attester`)."""
    if receipt.kind != "receipt":
        raise InputError(f"{receipt.source} is a signed {receipt.kind}, not a receipt", reason="bad-review")
    options = options or VerifyOptions()
    result = verify_artifact(receipt, options)
    if result.payload is None or result.subject is None:
        raise InputError(f"the receipt does not verify: {result.errors[0]}", reason="bad-review")
    payer = str(result.payload["payer"])
    if payer_link is None or payer_link(payer) is None:
        check_payer_is_attester(payer, attester)
    if not result.valid:
        # Issued in the chain's future is a matter of time, not of the receipt: a later attempt may pass.
        later = result.reasons == ["issued-in-future"]
        reason: Reason = "issued-in-future" if later else "bad-review"
        raise InputError(f"the receipt does not verify: {result.errors[0]}", reason=reason)
    proofs = [Proof.wrap("x402-receipt", receipt.envelope).to_text()]
    if offer is not None:
        offer_result = verify_artifact(offer, options)
        if not offer_result.valid:
            raise InputError(f"the offer does not verify: {offer_result.errors[0]}", reason="bad-review")
        if offer_result.subject != result.subject:
            raise InputError(
                f"the offer is for {offer_result.subject}, the receipt for {result.subject}", reason="bad-review"
            )
        proofs.append(Proof.wrap("x402-offer", offer.envelope).to_text())
    review = new_review(
        subject=result.subject,
        version=version,
        rating_value=rating,
        review_body=body,
        screenshot_urls=tuple(screenshots),
        proofs=tuple(proofs),
    )
    return review, result


def review_of_subject(
    subject: str, *, rating: int, body: str = "", screenshots: Sequence[str] = (), version: str = ""
) -> UserReview:
    """A review without proof; it reads as `unverified`."""
    return new_review(
        subject=subject, version=version, rating_value=rating, review_body=body, screenshot_urls=tuple(screenshots)
    )
