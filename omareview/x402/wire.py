"""The x402 offer-and-receipt wire payloads, as `TypedDict`s: they are hashed and signed byte for byte, so
they are typed, never coerced by a model.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

__all__ = ["ArtifactKind", "OfferPayload", "ReceiptPayload", "SignedArtifact"]

ArtifactKind = Literal["offer", "receipt"]


class OfferPayload(TypedDict):
    """A signed offer's payload (x402 offer-and-receipt §3): the terms of one `accepts[]` entry."""

    version: int
    resourceUrl: str
    scheme: str
    network: str
    asset: str
    payTo: str
    amount: str
    validUntil: NotRequired[int]


class ReceiptPayload(TypedDict):
    """A signed receipt's payload; `transaction` is optional (left out for privacy)."""

    version: int
    network: str
    resourceUrl: str
    payer: str
    issuedAt: int
    transaction: NotRequired[str]


class SignedArtifact(TypedDict):
    """The envelope that travels and goes on-chain as proof: EIP-712 carries `payload`, JWS embeds it."""

    format: Literal["eip712", "jws"]
    signature: str
    payload: NotRequired[OfferPayload | ReceiptPayload]
    acceptIndex: NotRequired[int]
