"""What a client is told when the provider refuses or fails: an HTTP status and the OMATrust-style `code`
clients branch on, chosen from the error's reason where the relay protocol names one, else from its class.
A failure on the provider's side gets fixed words, so no node URL, credential or upstream body reaches a
client; the operator's log has the detail."""

from __future__ import annotations

from dataclasses import dataclass

from omareview.errors import ChainError, InputError, OmaReviewError, Reason

__all__ = ["FIXED_MESSAGES", "REFUSALS", "Refusal", "refusal_of"]

#: reason code → (HTTP status, the OMATrust-style `code` clients branch on).
REFUSALS: dict[Reason, tuple[int, str]] = {
    "signature-expired": (400, "SIGNATURE_EXPIRED"),
    "invalid-signature": (400, "INVALID_SIGNATURE"),
    "attester-mismatch": (400, "ATTESTER_MISMATCH"),
    "bad-review": (400, "INVALID_REVIEW"),
    "schema-not-subsidized": (403, "SCHEMA_NOT_SUBSIDIZED"),
    "payment-reviewed": (409, "ALREADY_REVIEWED"),
    "too-large": (413, "TOO_LARGE"),
    "wrong-payment": (422, "WRONG_PAYMENT"),
    "not-payment-backed": (422, "NOT_PAYMENT_BACKED"),
    "rate-limited": (429, "RATE_LIMITED"),
    "too-slow": (408, "TOO_SLOW"),
    "no-relayer": (403, "NO_DELEGATE_KEY"),
    "payment-pending": (503, "PAYMENT_PENDING"),
    "gas-budget": (503, "GAS_BUDGET"),
}

#: The words a client gets for a failure on the provider's side, by code.
FIXED_MESSAGES: dict[str, str] = {
    "CHAIN_ERROR": "the chain could not be reached or did not confirm the attestation; try again later",
    "UPSTREAM_ERROR": "a service this provider depends on failed; try again later",
    "PAYMENT_PENDING": "the payment cannot be confirmed yet; try again shortly",
    "GAS_BUDGET": "the relayer's gas budget for this hour is spent; try again later",
    "NO_DELEGATE_KEY": "this provider has no relayer key: it serves reviews but writes none",
}


@dataclass(frozen=True)
class Refusal:
    """The answer to one error.

    Parameters:
        status: the HTTP status.
        code: the machine-readable code.
        message: what the client reads.
        retry_after: seconds to wait before trying again, when waiting helps.
        internal: the provider's side failed (the operator's log says why).
    """

    status: int
    code: str
    message: str
    retry_after: int | None = None
    internal: bool = False


def refusal_of(error: OmaReviewError) -> Refusal:
    """The answer to `error`: by its reason when the relay protocol names one, else by its class (a refused
    input is the client's 400; the chain's or another service's failure is a 502)."""
    if error.reason in REFUSALS:
        status, code = REFUSALS[error.reason]
    elif isinstance(error, InputError):
        status, code = 400, "BAD_REQUEST"
    elif isinstance(error, ChainError):
        status, code = 502, "CHAIN_ERROR"
    else:
        status, code = 502, "UPSTREAM_ERROR"
    fixed = FIXED_MESSAGES.get(code)
    retry = 15 if status in (429, 503) else None
    return Refusal(status, code, fixed or str(error), retry, internal=fixed is not None)
