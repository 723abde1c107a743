"""EIP-712 hashing: type hashes, struct hashes, domain separators and the signed digest.

One implementation serves the x402 offer and receipt domains and EAS delegated attestations. Only the
atomic types those use are encoded (`string`, `bytes`, `bytesN`, `address`, `uintN`, `bool`); callers
validate their values first and pass them as the types below. coincurve (libsecp256k1) is loaded by the
first signature made or recovered: hashing alone, as the index's reads do, needs none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from omareview._hashing import address_of_point, keccak, keccak_text
from omareview.errors import InputError

__all__ = [
    "TypedField",
    "digest",
    "domain_separator",
    "encode_value",
    "hash_struct",
    "recover_signer",
    "sign_digest",
    "type_hash",
]

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

#: One member of a struct type: (name, Solidity type).
TypedField = tuple[str, str]


def type_hash(primary: str, fields: Sequence[TypedField]) -> bytes:
    """keccak256 of `Primary(type name,…)` — the struct's type string."""
    members = ",".join(f"{solidity} {name}" for name, solidity in fields)
    return keccak(f"{primary}({members})".encode())


def _address(value: Any) -> bytes:
    return bytes(12) + bytes.fromhex(str(value)[2:])


def _uint(value: Any) -> bytes:
    return int(value).to_bytes(32, "big")


def _fixed_bytes(value: Any) -> bytes:
    raw = bytes(value)
    return raw + bytes(32 - len(raw))


# The encoder of each atomic type, found by one look-up: bulk verification hashes six members a receipt.
_ENCODERS: dict[str, Callable[[Any], bytes]] = {
    "string": keccak_text,
    "bytes": lambda value: keccak(bytes(value)),
    "address": _address,
    "bool": lambda value: _uint(bool(value)),
    **{f"uint{bits}": _uint for bits in range(8, 257, 8)},
    **{f"bytes{size}": _fixed_bytes for size in range(1, 33)},
}


def encode_value(solidity: str, value: Any) -> bytes:
    """The 32-byte encoding of one atomic member (`encodeData` of EIP-712)."""
    encoder = _ENCODERS.get(solidity)
    if encoder is None:
        raise ValueError(f"EIP-712 type {solidity!r} is not supported here")
    return encoder(value)


def hash_struct(struct_type_hash: bytes, fields: Sequence[TypedField], values: Mapping[str, object]) -> bytes:
    """hashStruct: keccak256 of the type hash and each member's encoding, in declaration order."""
    return keccak(struct_type_hash + b"".join([encode_value(solidity, values[name]) for name, solidity in fields]))


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
    import coincurve

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
    import coincurve

    recoverable = coincurve.PrivateKey(private_key).sign_recoverable(message_digest, hasher=None)
    return "0x" + recoverable[:64].hex() + bytes([recoverable[64] + 27]).hex()
