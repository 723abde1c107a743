"""The verdict of an authorization check, apart from the checks themselves (which need DNS and HTTP), so
that verifying a signature alone loads neither."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from omareview.identity.keys import PublicKey

__all__ = ["Authorization", "AuthorizationMethod", "AuthorizationStatus", "SignerIdentity"]

AuthorizationStatus = Literal["authorized", "unauthorized", "unknown"]
AuthorizationMethod = Literal["key-binding", "witness", "did-json", "dns-txt", "pay-to"]
SignerIdentity: TypeAlias = "str | PublicKey | dict[str, Any]"


class Authorization(BaseModel):
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

    model_config = ConfigDict(defer_build=True, frozen=True)

    status: AuthorizationStatus
    method: AuthorizationMethod | None = None
    detail: str
    uid: str | None = None
    valid_from: int | None = None
    valid_until: int | None = None
