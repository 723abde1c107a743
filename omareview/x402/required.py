"""A 402's payment requirements (x402's `PaymentRequired`, or a v1 402 body), read in one place: from the
`PAYMENT-REQUIRED` header, else the JSON body, under the untrusted-JSON limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationError, model_validator

from omareview._json import JsonObject, loads_untrusted
from omareview._wire import WireModel
from omareview.errors import InputError
from omareview.identity._b64 import decode_header_value

__all__ = ["PaymentRequired", "PaymentRequirement", "parse_payment_required"]


class PaymentRequirement(WireModel):
    """One `accepts[]` entry: a way the service takes payment.

    Attributes:
        scheme: the payment scheme (`exact`).
        network: the network, as the service names it (CAIP-2, or a v1 name).
        asset: the asset's address.
        pay_to: where the money goes.
        amount: how much, in atomic units: x402 v2's `amount`, else v1's `maxAmountRequired` (None: neither).
        max_timeout_seconds: how long the service gives a payment to settle.
    """

    scheme: str | None = None
    network: str | None = None
    asset: str | None = None
    pay_to: str | None = None
    amount: str | None = None
    max_timeout_seconds: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        """The one place x402 v1's and v2's spellings of the amount meet; a number is read as its digits."""
        if not isinstance(value, Mapping):
            return value
        amount = value.get("amount", value.get("maxAmountRequired"))
        if isinstance(amount, int) and not isinstance(amount, bool):
            amount = str(amount)
        return {**value, "amount": amount}


class PaymentRequired(WireModel):
    """What a 402 asks for.

    Attributes:
        x402_version: the protocol version it speaks (None: a v1 body that does not say).
        accepts: the ways it takes payment.
        extensions: its extensions (`offer-receipt`, `reviews`), as sent: each another party's block, read by
            what knows it (untrusted JSON already, so not walked again here: a gate reads one per decision).
    """

    x402_version: int | None = None
    accepts: list[PaymentRequirement]
    extensions: JsonObject = Field(default_factory=dict)


def parse_payment_required(headers: Mapping[str, str], body: bytes | None, *, what: str = "the 402") -> PaymentRequired:
    """The payment requirements of a 402 (`headers` with lowercase names). InputError
    (`bad-payment-required`) when it carries none that can be read."""
    header = headers.get("payment-required")
    try:
        value = loads_untrusted(decode_header_value(header) if header else body or b"", what=what)
    except (ValueError, InputError) as exc:
        raise InputError(
            f"{what} carries no readable payment requirements (no PAYMENT-REQUIRED header, no JSON body)",
            reason="bad-payment-required",
        ) from exc
    if not isinstance(value, dict) or not isinstance(value.get("accepts"), list):
        raise InputError(f"{what}'s payment requirements have no accepts[] list", reason="bad-payment-required")
    try:
        return PaymentRequired.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(
            f"{what}'s payment requirements do not read at {where}: {first['msg']}", reason="bad-payment-required"
        ) from None
