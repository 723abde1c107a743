"""EIP-712 hashing: type hashes, struct hashes, domain separators and the signed digest.

One implementation serves the x402 offer and receipt domains and EAS delegated attestations. Only the
atomic types those use are encoded (`string`, `bytes`, `bytesN`, `address`, `uintN`, `bool`); callers
validate their values first and pass them as the types below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from omareview._hashing import keccak, keccak_text

__all__ = ["TypedField", "digest", "domain_separator", "encode_value", "hash_struct", "type_hash"]

#: One member of a struct type: (name, Solidity type).
TypedField = tuple[str, str]


def type_hash(primary: str, fields: Sequence[TypedField]) -> bytes:
    """keccak256 of `Primary(type name,…)` — the struct's type string."""
    members = ",".join(f"{solidity} {name}" for name, solidity in fields)
    return keccak(f"{primary}({members})".encode())


def encode_value(solidity: str, value: Any) -> bytes:
    """The 32-byte encoding of one atomic member (`encodeData` of EIP-712)."""
    if solidity == "string":
        return keccak_text(value)
    if solidity == "bytes":
        return keccak(bytes(value))
    if solidity == "address":
        return bytes(12) + bytes.fromhex(str(value)[2:])
    if solidity == "bool":
        return int(bool(value)).to_bytes(32, "big")
    if solidity.startswith("bytes"):
        raw = bytes(value)
        return raw + bytes(32 - len(raw))
    if solidity.startswith("uint"):
        return int(value).to_bytes(32, "big")
    raise ValueError(f"EIP-712 type {solidity!r} is not supported here")


def hash_struct(struct_type_hash: bytes, fields: Sequence[TypedField], values: Mapping[str, Any]) -> bytes:
    """hashStruct: keccak256 of the type hash and each member's encoding, in declaration order."""
    encoded = bytearray(struct_type_hash)
    for name, solidity in fields:
        encoded += encode_value(solidity, values[name])
    return keccak(bytes(encoded))


_DOMAIN_FIELDS: tuple[TypedField, ...] = (("name", "string"), ("version", "string"), ("chainId", "uint256"))
_CONTRACT_FIELD: TypedField = ("verifyingContract", "address")


def domain_separator(name: str, version: str, chain_id: int, verifying_contract: str | None = None) -> bytes:
    """hashStruct of the `EIP712Domain`, with `verifyingContract` only when the domain has one."""
    fields = (*_DOMAIN_FIELDS, _CONTRACT_FIELD) if verifying_contract is not None else _DOMAIN_FIELDS
    values = {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying_contract}
    return hash_struct(type_hash("EIP712Domain", fields), fields, values)


def digest(separator: bytes, struct_hash: bytes) -> bytes:
    """The digest that is signed: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct)."""
    return keccak(b"\x19\x01" + separator + struct_hash)
