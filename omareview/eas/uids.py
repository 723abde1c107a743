"""UIDs EAS derives from its inputs, computed locally so they can be checked before and after sending."""

from __future__ import annotations

from eth_utils.address import to_checksum_address
from eth_utils.conversions import to_bytes
from eth_utils.crypto import keccak

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def schema_uid(schema: str, resolver: str = ZERO_ADDRESS, revocable: bool = False) -> str:
    """`keccak256(abi.encodePacked(string schema, address resolver, bool revocable))`, as SchemaRegistry does."""
    packed = schema.encode("utf-8") + to_bytes(hexstr=to_checksum_address(resolver)) + bytes([revocable])
    return "0x" + keccak(packed).hex()


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
        + to_bytes(hexstr=to_checksum_address(recipient))
        + to_bytes(hexstr=to_checksum_address(attester))
        + time.to_bytes(8, "big")
        + expiration_time.to_bytes(8, "big")
        + bytes([revocable])
        + bytes.fromhex(ref_uid.removeprefix("0x"))
        + data
        + bump.to_bytes(4, "big")
    )
    return "0x" + keccak(packed).hex()
