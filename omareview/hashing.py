"""keccak256 and EVM addresses, computed directly: these sit on the hot path of bulk verification."""

from __future__ import annotations

from functools import lru_cache

from Crypto.Hash import keccak as keccak_hash


def keccak(data: bytes) -> bytes:
    """keccak256, straight from pycryptodome (no wrapper layers)."""
    return keccak_hash.new(digest_bits=256, data=data).digest()


@lru_cache(maxsize=4096)
def keccak_text(value: str) -> bytes:
    """keccak256 of UTF-8 text, cached: networks, payers and empty fields repeat across a batch."""
    return keccak(value.encode("utf-8"))


def checksum_address(address: bytes) -> str:
    """EIP-55 mixed-case hex of a 20-byte address."""
    lower = address.hex()
    nibbles = keccak(lower.encode("ascii")).hex()[:40]
    return "0x" + "".join(c.upper() if int(n, 16) >= 8 else c for c, n in zip(lower, nibbles, strict=True))


def address_of_point(uncompressed: bytes) -> str:
    """The checksummed EVM address of a secp256k1 public key in uncompressed SEC1 form (0x04 ‖ x ‖ y)."""
    return checksum_address(keccak(uncompressed[1:])[-20:])
