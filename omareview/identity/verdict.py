"""The verdict of an authorization check, apart from the checks themselves (which need DNS and HTTP), so
that verifying a signature alone loads neither."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

from omareview._cache import ExpiringCache
from omareview._wire import WireModel

if TYPE_CHECKING:
    from omareview.identity.keys import PublicKey

__all__ = [
    "ANSWER_TTL_S",
    "FAILURE_TTL_S",
    "Authorization",
    "AuthorizationCache",
    "AuthorizationMethod",
    "AuthorizationStatus",
    "SignerIdentity",
    "SignerInfo",
    "authorization_cache",
]

#: How long an answer from outside (a DID document, a live authorization) is kept, and a failure.
ANSWER_TTL_S = 300.0
FAILURE_TTL_S = 30.0

AuthorizationStatus = Literal["authorized", "unauthorized", "unknown"]
AuthorizationMethod = Literal["key-binding", "witness", "did-json", "dns-txt", "pay-to"]
SignerIdentity: TypeAlias = "str | PublicKey | dict[str, Any]"


class Authorization(WireModel):
    """Whether a signer is authorized for a subject, and by which source.

    Attributes:
        status: `authorized`, `unauthorized` (a source names other signers) or `unknown` (no source answered).
        method: the source that decided (its tier): `key-binding`, `witness`, `did-json`, `dns-txt` or
            `pay-to`; None when nothing decided.
        detail: what was found, for a person.
        uid: the attestation that decided, for the on-chain sources.
        valid_from: from when that source authorizes the signer (on-chain sources).
        valid_until: until when (None: open).
    """

    json_exclude_none: ClassVar[bool] = True

    status: AuthorizationStatus
    method: AuthorizationMethod | None = None
    detail: str
    uid: str | None = None
    valid_from: int | None = None
    valid_until: int | None = None


class SignerInfo(WireModel):
    """Who signed an artifact: an address (EIP-712) or a `kid` (JWS), and the DID it speaks for."""

    json_exclude_none = True

    address: str | None = None
    kid: str | None = None
    did: str


#: Live authorization answers by (signer, host, payTo).
AuthorizationCache: TypeAlias = "ExpiringCache[tuple[str, str, str | None], Authorization]"


def authorization_cache() -> ExpiringCache[tuple[str, str, str | None], Authorization]:
    """A cache for live authorization answers: each kept as long as a DID document is, at most 4,096."""
    return ExpiringCache(ttl_s=ANSWER_TTL_S)
