"""Attestation UIDs as EAS derives them, computed locally so they can be checked before and after sending."""

from __future__ import annotations

from omareview._hashing import keccak, to_checksum_address

__all__ = ["attestation_uid"]


def _address_bytes(address: str) -> bytes:
    return bytes.fromhex(to_checksum_address(address)[2:])


def attestation_uid(
    schema: str,
    recipient: str,
    attester: str,
    time: int,
    expiration_time: int,
    revocable: bool,
    ref_uid: str,
    data: bytes,
    bump: int = 0,
) -> str:
    """The on-chain UID EAS assigns: keccak256 of the packed fields and a bump counter (EAS.sol `_getUID`)."""
    packed = (
        bytes.fromhex(schema.removeprefix("0x"))
        + _address_bytes(recipient)
        + _address_bytes(attester)
        + time.to_bytes(8, "big")
        + expiration_time.to_bytes(8, "big")
        + bytes([revocable])
        + bytes.fromhex(ref_uid.removeprefix("0x"))
        + data
        + bump.to_bytes(4, "big")
    )
    return "0x" + keccak(packed).hex()
