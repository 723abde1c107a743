"""The project's one EIP-712 hasher equals eth-account's `encode_typed_data` on random offers, receipts and
EAS attestations."""

from __future__ import annotations

from typing import Any

from eth_account.messages import _hash_eip191_message, encode_typed_data
from hypothesis import given, settings
from hypothesis import strategies as st

from omareview.eas.abi import RequestData
from omareview.eas.delegation import EasDomain, attest_digest, attest_typed_data
from omareview.x402 import eip712

text = st.text(max_size=80)
uint256 = st.integers(min_value=0, max_value=2**256 - 1)
address = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())

X402_TYPES = {
    kind: [{"name": name, "type": solidity} for name, solidity in eip712.FIELDS[kind]] for kind in ("offer", "receipt")
}
DOMAIN_TYPE = [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}]
DOMAIN_TYPE.append({"name": "chainId", "type": "uint256"})


def _reference(kind: str, payload: dict[str, Any]) -> bytes:
    primary = "Offer" if kind == "offer" else "Receipt"
    message = {
        "types": {"EIP712Domain": DOMAIN_TYPE, primary: X402_TYPES[kind]},
        "primaryType": primary,
        "domain": {"name": f"x402 {kind}", "version": "1", "chainId": 1},
        "message": payload,
    }
    return bytes(_hash_eip191_message(encode_typed_data(full_message=message)))


@settings(max_examples=150, deadline=None)
@given(version=uint256, network=text, url=text, payer=text, issued_at=uint256, transaction=text)
def test_receipt_digest_matches_eth_account(
    version: int, network: str, url: str, payer: str, issued_at: int, transaction: str
) -> None:
    payload = {
        "version": version,
        "network": network,
        "resourceUrl": url,
        "payer": payer,
        "issuedAt": issued_at,
        "transaction": transaction,
    }
    assert eip712.digest("receipt", payload) == _reference("receipt", payload)


@settings(max_examples=150, deadline=None)
@given(
    version=uint256,
    url=text,
    scheme=text,
    network=text,
    asset=text,
    pay_to=text,
    amount=text,
    valid_until=uint256,
)
def test_offer_digest_matches_eth_account(
    version: int, url: str, scheme: str, network: str, asset: str, pay_to: str, amount: str, valid_until: int
) -> None:
    payload = {
        "version": version,
        "resourceUrl": url,
        "scheme": scheme,
        "network": network,
        "asset": asset,
        "payTo": pay_to,
        "amount": amount,
        "validUntil": valid_until,
    }
    assert eip712.digest("offer", payload) == _reference("offer", payload)


@settings(max_examples=100, deadline=None)
@given(
    version=st.sampled_from(["1.0.2", "1.2.0", "1.3.0", "1.4.0"]),
    chain_id=st.integers(min_value=1, max_value=2**64),
    contract=address,
    attester=address,
    schema=st.binary(min_size=32, max_size=32),
    recipient=address,
    expiration=st.integers(min_value=0, max_value=2**64 - 1),
    revocable=st.booleans(),
    ref_uid=st.binary(min_size=32, max_size=32),
    data=st.binary(max_size=300),
    value=uint256,
    nonce=uint256,
    deadline=st.integers(min_value=0, max_value=2**64 - 1),
)
def test_eas_attest_digest_matches_eth_account(
    version: str,
    chain_id: int,
    contract: str,
    attester: str,
    schema: bytes,
    recipient: str,
    expiration: int,
    revocable: bool,
    ref_uid: bytes,
    data: bytes,
    value: int,
    nonce: int,
    deadline: int,
) -> None:
    domain = EasDomain("EAS", version, chain_id, contract)
    request = RequestData(recipient, expiration, revocable, "0x" + ref_uid.hex(), data, value)
    schema_uid = "0x" + schema.hex()
    typed = attest_typed_data(domain, attester, schema_uid, request, nonce, deadline)
    reference = bytes(_hash_eip191_message(encode_typed_data(full_message=typed)))
    assert attest_digest(domain, attester, schema_uid, request, nonce, deadline) == reference
