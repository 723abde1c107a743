"""EIP-712 hashing, signing and recovery for x402 offers and receipts (spec v0.6 §3.2).

The domains are fixed (`x402 offer` / `x402 receipt`, version "1", chainId 1, no verifyingContract), so
their separators and the type hashes are computed once. Values are hashed exactly as transmitted; only
absent optionals are filled (`validUntil` 0, `transaction` "").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omareview._eip712 import digest as typed_digest
from omareview._eip712 import domain_separator, hash_struct, type_hash
from omareview.errors import InputError
from omareview.x402.wire import ArtifactKind

__all__ = [
    "DOMAIN_SEPARATORS",
    "FIELDS",
    "OPTIONAL_DEFAULTS",
    "TYPE_HASHES",
    "ArtifactKind",
    "digest",
    "struct_hash",
]


FIELDS: dict[ArtifactKind, tuple[tuple[str, str], ...]] = {
    "offer": (
        ("version", "uint256"),
        ("resourceUrl", "string"),
        ("scheme", "string"),
        ("network", "string"),
        ("asset", "string"),
        ("payTo", "string"),
        ("amount", "string"),
        ("validUntil", "uint256"),
    ),
    "receipt": (
        ("version", "uint256"),
        ("network", "string"),
        ("resourceUrl", "string"),
        ("payer", "string"),
        ("issuedAt", "uint256"),
        ("transaction", "string"),
    ),
}
OPTIONAL_DEFAULTS: dict[ArtifactKind, dict[str, object]] = {
    "offer": {"validUntil": 0},
    "receipt": {"transaction": ""},
}
_PRIMARY = {"offer": "Offer", "receipt": "Receipt"}
_UINT256_MAX = 2**256 - 1


TYPE_HASHES: dict[ArtifactKind, bytes] = {
    kind: type_hash(_PRIMARY[kind], FIELDS[kind]) for kind in ("offer", "receipt")
}
DOMAIN_SEPARATORS: dict[ArtifactKind, bytes] = {
    "offer": domain_separator("x402 offer", "1", 1),
    "receipt": domain_separator("x402 receipt", "1", 1),
}


def _checked_values(kind: ArtifactKind, payload: Mapping[str, object]) -> dict[str, object]:
    """The members to hash, absent optionals filled; InputError names the first missing or mistyped one."""
    defaults = OPTIONAL_DEFAULTS[kind]
    values: dict[str, Any] = {}
    for name, solidity in FIELDS[kind]:
        value = payload.get(name, defaults.get(name))
        if value is None:
            raise InputError(f"the {kind} payload has no {name}", reason="bad-eip712")
        if solidity == "string":
            if not isinstance(value, str):
                raise InputError(
                    f"the {kind} payload's {name} must be a string, not {type(value).__name__}", reason="bad-eip712"
                )
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _UINT256_MAX:
            raise InputError(
                f"the {kind} payload's {name} must be an unsigned integer, not {value!r}", reason="bad-eip712"
            )
        values[name] = value
    return values


def struct_hash(kind: ArtifactKind, payload: Mapping[str, object]) -> bytes:
    """hashStruct of a payload; InputError names the first field that is missing or of the wrong type."""
    return hash_struct(TYPE_HASHES[kind], FIELDS[kind], _checked_values(kind, payload))


def digest(kind: ArtifactKind, payload: Mapping[str, object]) -> bytes:
    """The EIP-712 digest that is signed: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct)."""
    return typed_digest(DOMAIN_SEPARATORS[kind], struct_hash(kind, payload))
