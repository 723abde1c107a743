"""keccak256 and EVM addresses, computed directly: these sit on the hot path of bulk verification.

keccak256 comes from safe-pysha3, a C extension of the Keccak team's reference code: it imports in well
under a millisecond (pycryptodome's binding costs ~20 ms through cffi's parser) and hashes ~3x faster.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sha3 import keccak_256

__all__ = ["address_of_point", "checksum_address", "is_address", "keccak", "keccak_text", "to_checksum_address"]


def keccak(data: bytes) -> bytes:
    """keccak256 (Ethereum's, not SHA3-256)."""
    digest: bytes = keccak_256(data).digest()
    return digest


@lru_cache(maxsize=4096)
def keccak_text(value: str) -> bytes:
    """keccak256 of UTF-8 text, cached: networks, payers and empty fields repeat across a batch."""
    return keccak(value.encode("utf-8"))


@lru_cache(maxsize=4096)
def checksum_address(address: bytes) -> str:
    """EIP-55 mixed-case hex of a 20-byte address. Cached: a batch's signers and payers repeat."""
    lower = address.hex()
    nibbles = keccak(lower.encode("ascii")).hex()[:40]
    return "0x" + "".join(c.upper() if n in _UPPER_NIBBLES else c for c, n in zip(lower, nibbles, strict=True))


_UPPER_NIBBLES = frozenset("89abcdef")


def address_of_point(uncompressed: bytes) -> str:
    """The checksummed EVM address of a secp256k1 public key in uncompressed SEC1 form (0x04 ‖ x ‖ y)."""
    return checksum_address(keccak(uncompressed[1:])[-20:])


_HEX_ADDRESS = re.compile(r"0[xX][0-9a-fA-F]{40}")


def is_address(value: object) -> bool:
    """A 0x-prefixed 20-byte hex address; a mixed-case one must carry a valid EIP-55 checksum."""
    if not isinstance(value, str) or _HEX_ADDRESS.fullmatch(value) is None:
        return False
    body = value[2:]
    if body.islower() or body.isupper() or body.isdigit():
        return True
    return checksum_address(bytes.fromhex(body)) == "0x" + body


def to_checksum_address(value: str) -> str:
    """EIP-55 form of a hex address; ValueError when `value` is not one."""
    if not is_address(value):
        raise ValueError(f"{value!r} is not an address")
    return checksum_address(bytes.fromhex(value[2:]))
