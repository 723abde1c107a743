import os

from eth_utils import keccak as reference_keccak
from eth_utils import to_checksum_address

from omareview._hashing import address_of_point, checksum_address, keccak, keccak_text


def test_keccak_matches_eth_utils() -> None:
    for data in (b"", b"abc", os.urandom(300)):
        assert keccak(data) == reference_keccak(data)
    assert keccak_text("eip155:8453") == reference_keccak(text="eip155:8453")


def test_eip55_matches_eth_utils() -> None:
    for _ in range(500):
        raw = os.urandom(20)
        assert checksum_address(raw) == to_checksum_address("0x" + raw.hex())


def test_address_of_the_anvil_key() -> None:
    import coincurve

    point = coincurve.PrivateKey(
        bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
    ).public_key
    assert address_of_point(point.format(compressed=False)) == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
