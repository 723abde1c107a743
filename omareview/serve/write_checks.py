"""What a relayed write must be before the chain is asked anything: checks over the signed request alone.

The signature recovers the attester, its deadline is live, it is a User Review under this provider's
schema, irrevocable, sent to its subject's DID address, and its data is that review's canonical encoding with
a bounded size and number of proofs. What needs the chain (the attester's current nonce, the payment) is the
provider's to check after.
"""

from __future__ import annotations

from omareview._eip712 import recover_signer
from omareview.eas.abi import ZERO_UID
from omareview.eas.delegation import DelegatedAttestation
from omareview.errors import InputError
from omareview.identity.dids import did_address
from omareview.review.model import UserReview, decode_user_review, new_review

__all__ = ["DEADLINE_MARGIN_S", "MAX_DATA_BYTES", "MAX_PROOFS", "checked_request"]

#: The most proofs, and attestation bytes, a relayed review may carry: they bound the gas one write costs.
MAX_PROOFS = 4
MAX_DATA_BYTES = 12 * 1024
#: How long a signature must still be valid for when it arrives.
DEADLINE_MARGIN_S = 30


def checked_request(delegated: DelegatedAttestation, schema_uid: str, now: float) -> UserReview:
    """The review a signed request carries, once every check over the request alone holds (`schema_uid`:
    the User Review schema this provider relays, lowercase; `now`: the time to judge the deadline at).
    InputError, with the relay protocol's reason, says which does not."""
    if delegated.deadline < now + DEADLINE_MARGIN_S:
        raise InputError("the signature's deadline has passed (or is about to)", reason="signature-expired")
    if delegated.schema_uid.lower() != schema_uid:
        raise InputError(
            f"this provider relays User Reviews ({schema_uid}) only, not {delegated.schema_uid}",
            reason="schema-not-subsidized",
        )
    try:
        signer = recover_signer(delegated.digest(), delegated.signature)
    except InputError as exc:
        raise InputError(f"the signature is invalid: {exc}", reason="invalid-signature") from exc
    if signer.lower() != delegated.attester.lower():
        raise InputError(
            f"the signature recovers {signer}, not the attester {delegated.attester}", reason="attester-mismatch"
        )
    request = delegated.request
    if len(request.data) > MAX_DATA_BYTES:
        raise InputError(
            f"the attestation data is {len(request.data)} bytes; this provider relays at most {MAX_DATA_BYTES}",
            reason="too-large",
        )
    if request.revocable or request.expiration_time or request.value or request.ref_uid.lower() != ZERO_UID:
        raise InputError(
            "a User Review is irrevocable, never expires, carries no value and references nothing",
            reason="bad-review",
        )
    try:
        review = new_review(**decode_user_review(request.data))
    except (InputError, ValueError, OverflowError) as exc:
        raise InputError(f"the attestation data is not a well-formed User Review: {exc}", reason="bad-review") from exc
    if len(review.proofs) > MAX_PROOFS:
        raise InputError(
            f"the review carries {len(review.proofs)} proofs; this provider relays at most {MAX_PROOFS}",
            reason="too-large",
        )
    if review.encode() != request.data:
        raise InputError(
            "the attestation data is not its review's canonical encoding (extra or altered bytes)",
            reason="bad-review",
        )
    if did_address(review.subject) != request.recipient.lower():
        raise InputError("the request's recipient is not the subject's DID address", reason="bad-review")
    return review
