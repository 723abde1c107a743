"""Schema parsing, encoding, UIDs, delegated signatures and revert decoding against the EAS vectors."""

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from omareview.eas.abi import (
    ATTEST,
    ATTEST_BY_DELEGATION,
    ATTEST_BY_DELEGATION_LEGACY,
    GET_ATTESTATION,
    GET_NONCE,
    MULTI_ATTEST,
    RequestData,
    decode_revert,
    selector,
)
from omareview.eas.delegation import EasDomain, attest_digest, attest_type_hash, attest_typed_data
from omareview.eas.schema_codec import decode_data, encode_data, parse_schema
from omareview.errors import InputError
from omareview.review import Proof, decode_user_review, new_review
from omareview.signers import signer_from_key
from tests.vectors import RECEIPT

SAMPLE_RECEIPT = {"format": "eip712", "payload": RECEIPT, "signature": "0x" + "11" * 65}
USER_REVIEW = (
    "string subject, string version, uint256 ratingValue, string reviewBody, string[] screenshotUrls, string[] proofs"
)


@pytest.mark.parametrize(
    ("schema", "types", "names"),
    [
        (
            USER_REVIEW,
            ["string", "string", "uint256", "string", "string[]", "string[]"],
            ["subject", "version", "ratingValue", "reviewBody", "screenshotUrls", "proofs"],
        ),
        ("uint8, string", ["uint8", "string"], ["", ""]),
        ("uint x,int y,ipfsHash h", ["uint256", "int256", "bytes32"], ["x", "y", "h"]),
        ("(string k,uint16 v)[] kv, uint256[2] f", ["(string,uint16)[]", "uint256[2]"], ["kv", "f"]),
        ("  bool   b  ,address a", ["bool", "address"], ["b", "a"]),
        ("", [], []),
    ],
)
def test_schema_parsing(schema: str, types: list[str], names: list[str]) -> None:
    fields = parse_schema(schema)
    assert [f.type for f in fields] == types
    assert [f.name for f in fields] == names


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("strin x", "unknown type 'strin'"),
        ("uint8,,string", "empty item"),
        ("uint8 a; uint8 b", "separated by ','"),
        ("(string k", "unbalanced '\\('"),
        ("uint7 x", "unknown type 'uint7'"),
        ("bytes33 b", "unknown type 'bytes33'"),
        ("uint8 1x", "'1x' is not a valid field name"),
    ],
)
def test_bad_schemas(schema: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_schema(schema)


def test_schema_encoder_vector_matches_plain_abi_encode() -> None:
    schema = "string subject,uint8 rating,bytes32 h,string[] tags,(string k,uint16 v)[] kv"
    values = ["did:web:example.com", 5, b"hello".ljust(32, b"\0"), ["a", "b"], [("x", 1), ("y", 2)]]
    encoded = encode_data(schema, values)
    assert encoded == abi_encode(["string", "uint8", "bytes32", "string[]", "(string,uint16)[]"], values)
    assert list(decode_data(schema, encoded))[3] == ("a", "b")
    with pytest.raises(InputError, match="values do not fit"):
        encode_data(schema, ["x", 300, b"", [], []])
    with pytest.raises(InputError, match="5 fields, 1 values"):
        encode_data(schema, ["x"])
    with pytest.raises(InputError, match="does not decode"):
        decode_data(schema, b"\x01\x02")


def test_omatrust_sample_review_vector() -> None:
    proof = Proof.wrap("x402-receipt", SAMPLE_RECEIPT).to_text()
    assert proof.startswith(
        '{"proofType":"x402-receipt","proofPurpose":"commercial-tx","proofObject":{"format":"eip712"'
    )
    review = new_review(
        subject="did:web:api.example.com", rating_value=5, review_body="Fast and reliable API.", proofs=(proof,)
    )
    data = review.encode()
    assert len(data) == 928
    assert keccak(data).hex() == "2215ef001382d3c776c5356796b09fc41eb062f015f6a71a04b6ec9074353ab9"
    assert review.recipient == "0x09a34a416806a7eba14b6b183369082602e8064b"
    decoded = decode_user_review(data)
    assert decoded["proofs"] == (proof,) and decoded["ratingValue"] == 5


def test_selectors_match_the_reference_table() -> None:
    assert {
        "attest": selector(ATTEST).hex(),
        "multiAttest": selector(MULTI_ATTEST).hex(),
        "attestByDelegation": selector(ATTEST_BY_DELEGATION).hex(),
        "legacy": selector(ATTEST_BY_DELEGATION_LEGACY).hex(),
        "getAttestation": selector(GET_ATTESTATION).hex(),
        "getNonce": selector(GET_NONCE).hex(),
    } == {
        "attest": "f17325e7",
        "multiAttest": "44adc90e",
        "attestByDelegation": "3c042715",
        "legacy": "e13458fc",
        "getAttestation": "a3112a64",
        "getNonce": "2d0335ab",
    }


def test_attest_type_hashes() -> None:
    assert attest_type_hash("legacy").hex() == "dbfdf8dc2b135c26253e00d5b6cbe6f20457e003fd526d97cea183883570de61"
    assert attest_type_hash("v1").hex() == "f83bb2b0ede93a840239f7e701a54d9bc35f03701f51ae153d601c6947ff3d3f"
    assert attest_type_hash("v2").hex() == "feb2925a02bae3dae48d424a0437a2b6ac939aa9230ddc55a1a76f065d988076"


@pytest.mark.parametrize(
    ("version", "v", "r", "s"),
    [
        (
            "1.4.0",
            28,
            "a602bf75c317165bd5d4fd9ed9e2af0ee7f4b3ef67249c9025c2f524493d6643",
            "57e77b33d65434f3c95ab72ce376579a9fb524a364f56457c75e7df9ce00db18",
        ),
        (
            "1.2.0",
            27,
            "fbd7afd1e5a2bf68fd719ae16b16dec6d4e7277da1306fde9ec329a0d741ff77",
            "21a885255546734dd6067528f4559012880f5caedf63a818737a0b3deadddbcb",
        ),
        (
            "0.26",
            28,
            "ceb6f06755b635664a7fabce0ca1dd1f68887205409484582563424f2cdedcbe",
            "35eafdc805699175f89d1a8a95513ddd25e91b492dc9260a1dcbde09444c17b7",
        ),
    ],
)
def test_delegated_signature_vectors(version: str, v: int, r: str, s: str) -> None:
    signer = signer_from_key("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
    domain = EasDomain("EAS", version, 31337, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")
    request = RequestData(
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 0, True, "0x" + "00" * 32, bytes.fromhex("1234")
    )
    schema = "0xbd2d5113e822935244f914ff0fdddde0e97b23220a99d6657193e3a0ffeeebbd"
    signature = signer.sign_hash(attest_digest(domain, signer.address, schema, request, 0, 0))
    assert (signature[0], signature[1].hex(), signature[2].hex()) == (v, r, s)
    if version == "1.4.0":
        assert domain.separator().hex() == "1f0caf14dff5a943f999d380b6d35c86bde5e2b422fd52b5461ce642ecd06b5b"


def test_omatrust_delegated_digest_vector() -> None:
    from eth_account.messages import _hash_eip191_message, encode_typed_data

    review = new_review(
        subject="did:web:api.example.com",
        rating_value=5,
        review_body="Fast and reliable API.",
        proofs=(Proof.wrap("x402-receipt", SAMPLE_RECEIPT).to_text(),),
    )
    domain = EasDomain("EAS", "1.4.0", 66238, "0x8835AF90f1537777F52E482C8630cE4e947eCa32")
    request = RequestData("0x09A34a416806A7EBa14B6B183369082602E8064b", 0, False, "0x" + "00" * 32, review.encode())
    typed = attest_typed_data(
        domain,
        "0x857b06519E91e3A54538791bDbb0E22373e36b66",
        "0x7ab3911527e5e47eaab9f5a2c571060026532dde8cb4398185553053963b2a47",
        request,
        0,
        1900000000,
    )
    digest = _hash_eip191_message(encode_typed_data(full_message=typed))
    assert digest.hex() == "77a858c4e9e80ae532301dceb4d314c2273b823dad6f3b7eb5ce7e0614a9e975"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("0x157bd4c3", "the schema is irrevocable: attestations to it must have revocable=false (Irrevocable())"),
        ("0xbf37b20e", "the schema UID is not registered on this EAS"),
        ("0x1ab7da6b", "deadline has passed"),
        ("0x8baa579f", "stale or reused nonce"),
        ("0x", "the address is not an EAS contract, or its EAS version lacks this function"),
        (None, "reverted without a reason"),
        ("0x08c379a0" + abi_encode(["string"], ["nope"]).hex(), "attest reverted: nope"),
        ("0xdeadbeef", "unknown error data 0xdeadbeef"),
    ],
)
def test_revert_decoding(data: str | None, message: str) -> None:
    assert message in str(decode_revert(data, "attest"))
