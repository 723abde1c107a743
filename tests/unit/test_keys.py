import base64
import contextlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import given
from hypothesis import strategies as st

from omareview.errors import InputError
from omareview.identity import (
    address_from_did_pkh,
    did_jwk_from_key,
    did_key_from_key,
    did_pkh_from_address,
    evm_address_of_key,
    jwk_to_public_key,
    key_from_did,
    key_from_multibase,
    keys_equal,
    public_key_to_jwk,
)

TEST_SEED = bytes(range(32))


def test_ed25519_jwk_matches_the_x402_vector_key() -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(TEST_SEED).public_key()
    assert public_key_to_jwk(key) == {
        "crv": "Ed25519",
        "kty": "OKP",
        "x": "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg",
    }


def test_did_key_spec_example_decodes() -> None:
    key = key_from_did("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
    assert public_key_to_jwk(key)["x"] == "Lm_M42cB3HkUiODQsXRcweM6TByfzEHGO9ND274JcOY"


@pytest.mark.parametrize(("curve", "prefix"), [(ec.SECP256K1(), "did:key:zQ3s"), (ec.SECP256R1(), "did:key:zDna")])
def test_ec_did_key_round_trip_and_multicodec_prefixes(curve: ec.EllipticCurve, prefix: str) -> None:
    key = ec.generate_private_key(curve).public_key()
    did = did_key_from_key(key)
    assert did.startswith(prefix)
    assert keys_equal(key_from_did(did), key)
    assert keys_equal(jwk_to_public_key(public_key_to_jwk(key)), key)


def test_did_jwk_is_sorted_compact_json() -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(TEST_SEED).public_key()
    did = did_jwk_from_key(key)
    body = did.removeprefix("did:jwk:")
    decoded = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    assert decoded == '{"crv":"Ed25519","kty":"OKP","x":"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"}'
    assert keys_equal(key_from_did(did + "#0"), key)


def test_did_pkh_round_trip() -> None:
    address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    did = did_pkh_from_address(address, 8453)
    assert did == "did:pkh:eip155:8453:0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    assert address_from_did_pkh(did) == address
    with pytest.raises(InputError, match="is not an EVM address"):
        did_pkh_from_address("0x1234")
    with pytest.raises(InputError, match="is not an EVM did:pkh"):
        address_from_did_pkh("did:pkh:solana:mainnet:abc")


def test_evm_address_of_the_anvil_key() -> None:
    key = ec.derive_private_key(
        int("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", 16), ec.SECP256K1()
    ).public_key()
    assert evm_address_of_key(key) == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert evm_address_of_key(ec.generate_private_key(ec.SECP256R1()).public_key()) is None


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ("nope", "a JWK must be a JSON object"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"}, "holds a private key"),
        ({"kty": "OKP", "crv": "X25519", "x": "AA"}, "unsupported JWK key type OKP/X25519"),
        ({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}, "unsupported JWK key type EC/P-384"),
        ({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, "is not a valid public key"),
        ({"kty": "EC", "crv": "P-256", "x": "AA"}, "is not a valid public key"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, "is not a valid public key"),
    ],
)
def test_malformed_jwks_are_refused(jwk: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        jwk_to_public_key(jwk)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("mAAAA", "only base58btc"),
        ("z0OIl", "is not valid base58btc"),
        ("z" + "1" * 10, "unsupported multicodec key"),
    ],
)
def test_malformed_multibase_is_refused(value: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        key_from_multibase(value)


def test_did_without_a_key_is_refused() -> None:
    with pytest.raises(InputError, match="only did:key and did:jwk do"):
        key_from_did("did:web:example.com")


@given(st.binary(min_size=0, max_size=64))
def test_multibase_decoding_never_crashes(data: bytes) -> None:
    import base58

    with contextlib.suppress(InputError):
        key_from_multibase("z" + base58.b58encode(data).decode())


@given(st.dictionaries(st.sampled_from(["kty", "crv", "x", "y", "d"]), st.text(max_size=12)))
def test_jwk_parsing_never_crashes(jwk: dict[str, str]) -> None:
    try:
        key = jwk_to_public_key(jwk)
    except InputError:
        return
    assert json.dumps(public_key_to_jwk(key))


class _Device:
    """An external signer (a KMS, a hardware wallet) that answers with a high-s signature, or holds
    another key than the address it claims."""

    def __init__(self, key: bytes, address: str, *, high_s: bool) -> None:
        import coincurve

        self._key, self.address, self.high_s = coincurve.PrivateKey(key), address, high_s

    def sign_hash(self, message_digest: bytes) -> tuple[int, bytes, bytes]:
        raw = self._key.sign_recoverable(message_digest, hasher=None)
        v, r, s = raw[64] + 27, raw[:32], int.from_bytes(raw[32:64], "big")
        if self.high_s:
            order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
            s, v = order - s, 55 - v
        return v, r, s.to_bytes(32, "big")


def test_an_external_signer_s_high_s_signature_is_made_canonical() -> None:
    from omareview._eip712 import recover_signer
    from omareview.signers import Signer, signer_from_key

    key = bytes.fromhex("42" * 32)
    reference = signer_from_key("0x" + "42" * 32)
    device = Signer(_Device(key, reference.address, high_s=True))
    digest = bytes(range(32))
    v, r, s = device.sign_hash(digest)
    assert int.from_bytes(s, "big") <= 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141 // 2
    assert (v, r, s) == reference.sign_hash(digest), "the same signature a local key makes"
    assert recover_signer(digest, "0x" + r.hex() + s.hex() + bytes([v]).hex()) == reference.address


def test_an_external_signer_holding_another_key_is_refused_before_anything_is_sent() -> None:
    from omareview.errors import InputError
    from omareview.signers import Signer, signer_from_key

    claimed = signer_from_key("0x" + "43" * 32).address
    device = Signer(_Device(bytes.fromhex("44" * 32), claimed, high_s=False))
    with pytest.raises(InputError, match="holds another key") as raised:
        device.sign_transaction(
            {
                "to": "0x" + "00" * 20,
                "chainId": 1,
                "nonce": 0,
                "maxPriorityFeePerGas": 1,
                "maxFeePerGas": 2,
                "gas": 21000,
            }
        )
    assert raised.value.reason == "wrong-signer"
