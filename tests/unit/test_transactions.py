"""Transactions are signed with coincurve and RLP; the bytes equal eth-account's for the same transaction."""

from __future__ import annotations

from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from omareview._hashing import to_checksum_address
from omareview.signers import signer_from_key

KEY = "0x" + "4c" * 32


@settings(max_examples=150, deadline=None)
@given(
    chain_id=st.integers(1, 2**32),
    nonce=st.integers(0, 2**40),
    tip=st.integers(0, 10**12),
    extra=st.integers(0, 10**12),
    gas=st.integers(21_000, 30_000_000),
    to=st.binary(min_size=20, max_size=20),
    value=st.integers(0, 10**24),
    data=st.binary(max_size=600),
)
def test_signed_transactions_match_eth_account(
    chain_id: int, nonce: int, tip: int, extra: int, gas: int, to: bytes, value: int, data: bytes
) -> None:
    tx = {
        "chainId": chain_id,
        "nonce": nonce,
        "maxPriorityFeePerGas": tip,
        "maxFeePerGas": tip + extra,
        "gas": gas,
        "to": "0x" + to.hex(),
        "value": value,
        "data": data,
    }
    reference = Account.from_key(KEY).sign_transaction({**tx, "to": to_checksum_address("0x" + to.hex())})
    assert signer_from_key(KEY).sign_transaction(tx) == bytes(reference.raw_transaction)


def test_the_key_signer_has_the_accounts_address_and_never_shows_its_key() -> None:
    signer = signer_from_key(KEY)
    assert signer.address == Account.from_key(KEY).address
    assert "4c4c" not in repr(signer) and "4c4c" not in repr(vars(signer))
