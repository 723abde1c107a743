"""EIP-712 hashing, signing and recovery for x402 offers and receipts (spec v0.6 §3.2).

The domains are fixed (`x402 offer` / `x402 receipt`, version "1", chainId 1, no verifyingContract), so
their separators and the type hashes are computed once. Values are hashed exactly as transmitted; only
absent optionals are filled (`validUntil` 0, `transaction` "").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import coincurve

from omareview._eip712 import digest as typed_digest
from omareview._eip712 import domain_separator, hash_struct, type_hash
from omareview._hashing import address_of_point
from omareview.errors import InputError
from omareview.x402.wire import ArtifactKind

__all__ = [
    "DOMAIN_SEPARATORS",
    "FIELDS",
    "OPTIONAL_DEFAULTS",
    "TYPE_HASHES",
    "ArtifactKind",
    "digest",
    "recover_signer",
    "sign_digest",
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
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


TYPE_HASHES: dict[ArtifactKind, bytes] = {
    kind: type_hash(_PRIMARY[kind], FIELDS[kind]) for kind in ("offer", "receipt")
}
DOMAIN_SEPARATORS: dict[ArtifactKind, bytes] = {
    "offer": domain_separator("x402 offer", "1", 1),
    "receipt": domain_separator("x402 receipt", "1", 1),
}


def _checked_values(kind: ArtifactKind, payload: Mapping[str, Any]) -> dict[str, Any]:
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


def struct_hash(kind: ArtifactKind, payload: Mapping[str, Any]) -> bytes:
    """hashStruct of a payload; InputError names the first field that is missing or of the wrong type."""
    return hash_struct(TYPE_HASHES[kind], FIELDS[kind], _checked_values(kind, payload))


def digest(kind: ArtifactKind, payload: Mapping[str, Any]) -> bytes:
    """The EIP-712 digest that is signed: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct)."""
    return typed_digest(DOMAIN_SEPARATORS[kind], struct_hash(kind, payload))


def _signature_bytes(signature: str) -> bytes:
    if not isinstance(signature, str) or not signature.startswith("0x") or len(signature) != 132:
        raise InputError("an EIP-712 signature must be 0x followed by 65 bytes of hex (r ‖ s ‖ v)", reason="bad-eip712")
    try:
        return bytes.fromhex(signature[2:])
    except ValueError:
        raise InputError("the EIP-712 signature is not hex", reason="bad-eip712") from None


def recover_signer(message_digest: bytes, signature: str) -> str:
    """The checksummed address that signed `message_digest`; `v` may be 0/1 or 27/28."""
    raw = _signature_bytes(signature)
    v = raw[64]
    recovery_id = v - 27 if v in (27, 28) else v
    if recovery_id not in (0, 1):
        raise InputError(f"the EIP-712 signature has v = {v}; expected 27, 28, 0 or 1", reason="bad-eip712")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")
    if not (0 < r < _SECP256K1_N and 0 < s < _SECP256K1_N):
        raise InputError("the EIP-712 signature's r or s is out of range", reason="bad-eip712")
    try:
        public_key = coincurve.PublicKey.from_signature_and_message(
            raw[:64] + bytes([recovery_id]), message_digest, hasher=None
        )
    except ValueError as exc:
        raise InputError(f"the EIP-712 signature does not recover a key ({exc})", reason="bad-eip712") from exc
    return address_of_point(public_key.format(compressed=False))


def sign_digest(message_digest: bytes, private_key: bytes) -> str:
    """A 65-byte r ‖ s ‖ v signature (v = 27/28, low s, RFC 6979) as 0x-hex, as viem and ethers make them."""
    recoverable = coincurve.PrivateKey(private_key).sign_recoverable(message_digest, hasher=None)
    return "0x" + recoverable[:64].hex() + bytes([recoverable[64] + 27]).hex()
