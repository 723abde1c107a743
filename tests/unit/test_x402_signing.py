"""EIP-712 and JWS encodings against the fixed vectors of the x402 reference notes (§2.10)."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from omareview.errors import InputError
from omareview.x402 import eip712
from omareview.x402.jws import parse_compact, sign_compact, verify_signature

ANVIL0_KEY = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
ANVIL0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
RECEIPT = {
    "version": 1,
    "network": "eip155:8453",
    "resourceUrl": "https://api.example.com/premium-data",
    "payer": "0x857b06519E91e3A54538791bDbb0E22373e36b66",
    "issuedAt": 1703123456,
    "transaction": "",
}
OFFER = {
    "version": 1,
    "resourceUrl": "https://api.example.com/premium-data",
    "scheme": "exact",
    "network": "eip155:8453",
    "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
    "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
    "amount": "10000",
    "validUntil": 1703123516,
}
RECEIPT_SIG = (
    "0x4f98ad0be21e9eb48ec1aeb7a65f25100f7db10a8e1870aa4021cbd6985013d0"
    "1451045373c2f5f74ac168e90cee435f13284beaa500f570ab7584cdde05e1021c"
)
OFFER_SIG = (
    "0x57073060e55da4e8a97e47dd390e7c2db8ac1fb7f53bbe0dc253a08267b3a909"
    "7f595505f2c47421ede1cc84c1360eba670ccd4011933ace67e6482abea885971b"
)
JWS_VECTOR = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImRpZDp3ZWI6YXBpLmV4YW1wbGUuY29tI2tleS0xIn0."
    "eyJpc3N1ZWRBdCI6MTcwMzEyMzQ1NiwibmV0d29yayI6ImVpcDE1NTo4NDUzIiwicGF5ZXIiOiIweDg1N2IwNjUxOUU5MWUzQTU0NTM4NzkxYkRi"
    "YjBFMjIzNzNlMzZiNjYiLCJyZXNvdXJjZVVybCI6Imh0dHBzOi8vYXBpLmV4YW1wbGUuY29tL3ByZW1pdW0tZGF0YSIsInZlcnNpb24iOjF9."
    "Oe-xtD4pgWaxKWFX89zvYF-hwStJaKIhZjfbQY1ryVcv_7ulWwpas3TrvnweSnuQpoJgE7iG1T8tACk3wkcaBA"
)


def test_type_hashes_and_domain_separators() -> None:
    assert eip712.TYPE_HASHES["receipt"].hex() == "616944bc4bb51b3d5fcbba8c559f76d57a93ac1e0d6659f1abbe95f92300c06f"
    assert eip712.TYPE_HASHES["offer"].hex() == "85143d3249b5e62ed5edd3d59a352d4e1181c775ff4f762f9c8a617f6bf1e97d"
    assert eip712.DOMAIN_SEPARATORS["receipt"].hex() == (
        "fd7f8c81cdd24b25c99ba22e191cee41d8809abbc12e8fdbd42fddfa5bb9e406"
    )
    assert eip712.DOMAIN_SEPARATORS["offer"].hex() == "5dc92544087ab60aa57c539b9543f9282416b0dcf2c2ae0d4d0051052a9e61b6"


def test_receipt_vector() -> None:
    assert eip712.struct_hash("receipt", RECEIPT).hex() == (
        "25ef64528ef742f3d41e9e5d8d4cf50a6305c50655d3a1cfa97de0b54a57dd06"
    )
    digest = eip712.digest("receipt", RECEIPT)
    assert digest.hex() == "060dbcfb87035bac821d6baa07fdab2ec109e6f06deaa00e037c2c1f4fbe6f8b"
    assert eip712.sign_digest(digest, ANVIL0_KEY) == RECEIPT_SIG
    assert eip712.recover_signer(digest, RECEIPT_SIG) == ANVIL0


def test_offer_vector() -> None:
    assert (
        eip712.struct_hash("offer", OFFER).hex() == "bc1be3a7ddfbb672f3cb1d8d03c8af6fbd7b9dbdef6fe6798e2d2e83deca0b46"
    )
    digest = eip712.digest("offer", OFFER)
    assert digest.hex() == "080c2947f96376213d3de762c32b1f56ba5869acdeb87c7a44b7be5d33d397ea"
    assert eip712.sign_digest(digest, ANVIL0_KEY) == OFFER_SIG
    assert eip712.recover_signer(digest, OFFER_SIG) == ANVIL0


def test_absent_optionals_hash_as_their_defaults() -> None:
    without = {k: v for k, v in RECEIPT.items() if k != "transaction"}
    assert eip712.digest("receipt", without) == eip712.digest("receipt", RECEIPT)
    offer = {k: v for k, v in OFFER.items() if k != "validUntil"}
    assert eip712.digest("offer", offer) == eip712.digest("offer", {**OFFER, "validUntil": 0})


def test_v_as_0_or_1_recovers_the_same_signer() -> None:
    digest = eip712.digest("receipt", RECEIPT)
    v01 = RECEIPT_SIG[:-2] + "01"
    assert eip712.recover_signer(digest, v01) == ANVIL0


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        ("0x1234", "65 bytes of hex"),
        (RECEIPT_SIG[:-2] + "1d", "has v = 29"),
        ("0x" + "zz" * 65, "is not hex"),
        ("0x" + "00" * 64 + "1b", "out of range"),
    ],
)
def test_bad_eip712_signatures(signature: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        eip712.recover_signer(eip712.digest("receipt", RECEIPT), signature)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"issuedAt": "1703123456"}, "issuedAt must be an unsigned integer"),
        ({"issuedAt": True}, "issuedAt must be an unsigned integer"),
        ({"issuedAt": -1}, "issuedAt must be an unsigned integer"),
        ({"payer": 5}, "payer must be a string"),
        ({"network": None}, "has no network"),
    ],
)
def test_payload_types_are_checked(change: dict[str, object], message: str) -> None:
    payload = {k: v for k, v in {**RECEIPT, **change}.items() if v is not None}
    with pytest.raises(InputError, match=message):
        eip712.struct_hash("receipt", payload)


def test_ed25519_jws_vector_byte_for_byte() -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    payload = {k: v for k, v in RECEIPT.items() if k != "transaction"}
    assert sign_compact(payload, key, "did:web:api.example.com#key-1") == JWS_VECTOR
    parsed = parse_compact(JWS_VECTOR)
    verify_signature(parsed, key.public_key())
    assert parsed.payload == payload


@pytest.mark.parametrize("curve", [ec.SECP256K1(), ec.SECP256R1()])
def test_ecdsa_jws_round_trip(curve: ec.EllipticCurve) -> None:
    key = ec.generate_private_key(curve)
    jws = sign_compact(RECEIPT, key, "did:key:x#0")
    parsed = parse_compact(jws)
    assert parsed.header["alg"] == ("ES256K" if isinstance(curve, ec.SECP256K1) else "ES256")
    assert len(parsed.signature) == 64
    verify_signature(parsed, key.public_key())
    with pytest.raises(InputError, match="does not verify"):
        verify_signature(parsed, ec.generate_private_key(curve).public_key())


def test_jws_algorithm_must_match_the_key() -> None:
    parsed = parse_compact(JWS_VECTOR)
    with pytest.raises(InputError, match="does not match the signer's secp256k1 key"):
        verify_signature(parsed, ec.generate_private_key(ec.SECP256K1()).public_key())
