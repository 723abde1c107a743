"""EIP-712 and JWS encodings against the fixed vectors of the x402 reference notes (§2.10)."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from omareview._eip712 import recover_signer, sign_digest
from omareview.errors import InputError
from omareview.identity.jws import parse_compact, sign_compact, verify_signature
from omareview.x402 import eip712
from tests.vectors import ANVIL0, ANVIL0_KEY, JWS_VECTOR, OFFER, OFFER_SIG, RECEIPT, RECEIPT_SIG, X402


def test_type_hashes_and_domain_separators() -> None:
    for kind in ("receipt", "offer"):
        assert eip712.TYPE_HASHES[kind].hex() == X402[kind]["typeHash"]
        assert eip712.DOMAIN_SEPARATORS[kind].hex() == X402[kind]["domainSeparator"]


def test_receipt_vector() -> None:
    assert eip712.struct_hash("receipt", RECEIPT).hex() == X402["receipt"]["structHash"]
    digest = eip712.digest("receipt", RECEIPT)
    assert digest.hex() == X402["receipt"]["digest"]
    assert sign_digest(digest, ANVIL0_KEY) == RECEIPT_SIG
    assert recover_signer(digest, RECEIPT_SIG) == ANVIL0


def test_offer_vector() -> None:
    assert eip712.struct_hash("offer", OFFER).hex() == X402["offer"]["structHash"]
    digest = eip712.digest("offer", OFFER)
    assert digest.hex() == X402["offer"]["digest"]
    assert sign_digest(digest, ANVIL0_KEY) == OFFER_SIG
    assert recover_signer(digest, OFFER_SIG) == ANVIL0


def test_absent_optionals_hash_as_their_defaults() -> None:
    without = {k: v for k, v in RECEIPT.items() if k != "transaction"}
    assert eip712.digest("receipt", without) == eip712.digest("receipt", RECEIPT)
    offer = {k: v for k, v in OFFER.items() if k != "validUntil"}
    assert eip712.digest("offer", offer) == eip712.digest("offer", {**OFFER, "validUntil": 0})


def test_v_as_0_or_1_recovers_the_same_signer() -> None:
    digest = eip712.digest("receipt", RECEIPT)
    v01 = RECEIPT_SIG[:-2] + "01"
    assert recover_signer(digest, v01) == ANVIL0


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
        recover_signer(eip712.digest("receipt", RECEIPT), signature)


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
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(X402["jws"]["ed25519Seed"]))
    payload = {k: v for k, v in RECEIPT.items() if k not in X402["jws"]["payloadOmits"]}
    assert sign_compact(payload, key, X402["jws"]["kid"]) == JWS_VECTOR
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
