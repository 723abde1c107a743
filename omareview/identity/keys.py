"""Public keys named by DIDs: did:key (multicodec + base58btc), did:jwk, and did:pkh addresses.

Keys are `cryptography` objects; JWKs are plain dicts holding only the public members, so two keys
compare equal exactly when their JWKs do. cryptography (~15 ms to import) is imported by the functions that
make or examine a key, not by this module: checking an EIP-712 signature or naming an address needs none.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, TypeAlias

import base58

from omareview._hashing import address_of_point, is_address, to_checksum_address
from omareview.errors import InputError
from omareview.identity._b64 import b64url_decode, b64url_encode
from omareview.identity.dids import normalize_did, validate_did_jwk

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

__all__ = [
    "Jwk",
    "PublicKey",
    "address_from_did_pkh",
    "did_jwk_from_key",
    "did_key_from_key",
    "did_pkh_from_address",
    "evm_address_of_key",
    "jwk_to_public_key",
    "key_from_did",
    "key_from_did_jwk",
    "key_from_did_key",
    "key_from_multibase",
    "keys_equal",
    "public_key_to_jwk",
    "solana_address_of_key",
]

PublicKey: TypeAlias = "ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey"
Jwk: TypeAlias = dict[str, str]

# multicodec code → (varint prefix, key type); the varints of 0xed, 0xe7 and 0x1200.
_ED25519_PREFIX = b"\xed\x01"
_SECP256K1_PREFIX = b"\xe7\x01"
_P256_PREFIX = b"\x80\x24"
_CURVE_NAMES = {"secp256k1": "secp256k1", "secp256r1": "P-256"}


@cache
def _curves() -> dict[str, ec.EllipticCurve]:
    from cryptography.hazmat.primitives.asymmetric import ec

    return {"secp256k1": ec.SECP256K1(), "P-256": ec.SECP256R1()}


def _point(key: ec.EllipticCurvePublicKey, *, compressed: bool) -> bytes:
    """The key's SEC1 point."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    point_format = PublicFormat.CompressedPoint if compressed else PublicFormat.UncompressedPoint
    return key.public_bytes(Encoding.X962, point_format)


def _curve_name(key: ec.EllipticCurvePublicKey) -> str:
    name = _CURVE_NAMES.get(key.curve.name)
    if name is None:
        raise InputError(
            f"unsupported elliptic curve {key.curve.name}; omareview handles secp256k1 and P-256", reason="bad-key"
        )
    return name


def public_key_to_jwk(key: PublicKey) -> Jwk:
    """The public JWK of a key, members in lexicographic order (RFC 7638 thumbprint order)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes_raw()
        return {"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(raw)}
    numbers = key.public_numbers()
    size = (key.curve.key_size + 7) // 8
    return {
        "crv": _curve_name(key),
        "kty": "EC",
        "x": b64url_encode(numbers.x.to_bytes(size, "big")),
        "y": b64url_encode(numbers.y.to_bytes(size, "big")),
    }


def jwk_to_public_key(jwk: object) -> PublicKey:
    """A key from a public JWK (OKP Ed25519, EC secp256k1 or P-256); anything else is refused clearly."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if not isinstance(jwk, dict):
        raise InputError("a JWK must be a JSON object", reason="bad-key")
    if "d" in jwk:
        raise InputError("the JWK holds a private key; only public keys are accepted", reason="bad-key")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if kty == "OKP" and crv == "Ed25519":
            return ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(str(jwk["x"])))
        if kty == "EC" and isinstance(crv, str) and crv in _curves():
            x = int.from_bytes(b64url_decode(str(jwk["x"])), "big")
            y = int.from_bytes(b64url_decode(str(jwk["y"])), "big")
            return ec.EllipticCurvePublicNumbers(x, y, _curves()[crv]).public_key()
    except (KeyError, ValueError, UnsupportedAlgorithm) as exc:
        raise InputError(f"the {kty}/{crv} JWK is not a valid public key ({exc})", reason="bad-key") from exc
    raise InputError(
        f"unsupported JWK key type {kty}/{crv}; omareview handles Ed25519, secp256k1 and P-256", reason="bad-key"
    )


def keys_equal(a: PublicKey, b: PublicKey) -> bool:
    return public_key_to_jwk(a) == public_key_to_jwk(b)


def did_jwk_from_key(key: PublicKey) -> str:
    """`did:jwk:` + base64url of the sorted-key compact JSON of the public JWK (OMATrust's controller form)."""
    text = json.dumps(public_key_to_jwk(key), separators=(",", ":"), sort_keys=True)
    return "did:jwk:" + b64url_encode(text.encode("utf-8"))


def key_from_did_jwk(did: str) -> PublicKey:
    identifier = did.strip().split("#", 1)[0]
    if not identifier.startswith("did:jwk:"):
        raise InputError(f"{did!r} is not a did:jwk DID", reason="bad-key")
    return jwk_to_public_key(validate_did_jwk(identifier.removeprefix("did:jwk:"), did))


def did_key_from_key(key: PublicKey) -> str:
    """`did:key:z…` for a key (multicodec prefix, compressed point for EC keys, base58btc)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if isinstance(key, ed25519.Ed25519PublicKey):
        body = _ED25519_PREFIX + key.public_bytes_raw()
    else:
        prefix = _SECP256K1_PREFIX if _curve_name(key) == "secp256k1" else _P256_PREFIX
        body = prefix + _point(key, compressed=True)
    return "did:key:z" + base58.b58encode(body).decode("ascii")


def key_from_multibase(value: str) -> PublicKey:
    """A key from a multibase (`z` base58btc) multicodec public key, as in did:key and publicKeyMultibase."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if not value.startswith("z"):
        raise InputError(
            f"unsupported multibase encoding {value[:1]!r}; only base58btc ('z') is handled", reason="bad-key"
        )
    try:
        body = base58.b58decode(value[1:])
    except ValueError as exc:
        raise InputError(f"{value[:16]}… is not valid base58btc", reason="bad-key") from exc
    prefix, material = body[:2], body[2:]
    try:
        if prefix == _ED25519_PREFIX and len(material) == 32:
            return ed25519.Ed25519PublicKey.from_public_bytes(material)
        if prefix == _SECP256K1_PREFIX and len(material) == 33:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), material)
        if prefix == _P256_PREFIX and len(material) == 33:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), material)
    except ValueError as exc:
        raise InputError(f"the multicodec key is not a valid point ({exc})", reason="bad-key") from exc
    raise InputError(
        f"unsupported multicodec key (prefix 0x{prefix.hex()}, {len(material)} bytes); "
        "expected Ed25519 (0xed01), secp256k1 (0xe701) or P-256 (0x8024)",
        reason="bad-key",
    )


def key_from_did_key(did: str) -> PublicKey:
    identifier = did.strip().split("#", 1)[0]
    if not identifier.startswith("did:key:"):
        raise InputError(f"{did!r} is not a did:key DID", reason="bad-key")
    return key_from_multibase(identifier.removeprefix("did:key:"))


def did_pkh_from_address(address: str, chain_id: int = 1) -> str:
    """`did:pkh:eip155:<chain>:<address>`, address lowercased as OMATrust normalizes it."""
    if not is_address(address):
        raise InputError(f"{address!r} is not an EVM address", reason="bad-key")
    return f"did:pkh:eip155:{chain_id}:{address.lower()}"


def address_from_did_pkh(did: str) -> str:
    """The checksummed EVM address of an eip155 did:pkh."""
    normalized = normalize_did(did)
    parts = normalized.split(":")
    if len(parts) != 5 or parts[1] != "pkh" or parts[2] != "eip155" or not is_address(parts[4]):
        raise InputError(f"{did!r} is not an EVM did:pkh (did:pkh:eip155:<chain>:<address>)", reason="bad-key")
    return to_checksum_address(parts[4])


def key_from_did(did: str) -> PublicKey:
    """The key a did:key or did:jwk names directly (did:web needs resolution, see `didweb`)."""
    method = did.strip().lower()[:8]
    if method == "did:key:":
        return key_from_did_key(did)
    if method == "did:jwk:":
        return key_from_did_jwk(did)
    raise InputError(f"{did!r} does not carry a key itself; only did:key and did:jwk do", reason="bad-key")


def evm_address_of_key(key: PublicKey) -> str | None:
    """The EVM address of a secp256k1 key; None for other curves."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256k1":
        return None
    point = _point(key, compressed=False)
    return address_of_point(point)


def solana_address_of_key(key: PublicKey) -> str | None:
    """The Solana address of an Ed25519 key (base58 of its 32 raw bytes); None for other curves."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if not isinstance(key, ed25519.Ed25519PublicKey):
        return None
    return str(base58.b58encode(key.public_bytes_raw()).decode("ascii"))
