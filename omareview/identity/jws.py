"""Compact JWS for x402 artifacts and OMATrust `pop-jws` proofs: verified over the bytes as sent, signed
with a JCS payload.

Only ES256K, ES256 and EdDSA (also spelled `Ed25519`) are accepted, each bound to its key type; `none`,
HMAC and everything else are refused. Every part is size-limited before it is decoded. cryptography is
imported by the signing and checking functions, as in `keys`: parsing a JWS needs none.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import rfc8785

from omareview._json import JsonObject, loads_untrusted
from omareview.errors import InputError
from omareview.identity._b64 import b64url_decode, b64url_encode

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    from omareview.identity.keys import PublicKey

__all__ = [
    "ALGORITHM_CURVES",
    "MAX_HEADER_CHARS",
    "MAX_JWS_CHARS",
    "ParsedJws",
    "PrivateKey",
    "algorithm_for",
    "looks_like_compact_jws",
    "parse_compact",
    "sign_compact",
    "verify_signature",
]

MAX_JWS_CHARS = 16 * 1024
MAX_HEADER_CHARS = 4 * 1024
ALGORITHM_CURVES = {"ES256K": "secp256k1", "ES256": "secp256r1", "EdDSA": "ed25519", "Ed25519": "ed25519"}

PrivateKey: TypeAlias = "ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey"


@dataclass(frozen=True)
class ParsedJws:
    header: JsonObject
    payload: JsonObject
    signing_input: bytes
    signature: bytes

    @property
    def digest(self) -> bytes:
        """SHA-256 of the signing input: what identifies this artifact (the signature is malleable)."""
        return hashlib.sha256(self.signing_input).digest()


def _decode_json_part(part: str, what: str) -> JsonObject:
    try:
        value = loads_untrusted(b64url_decode(part), what=f"the JWS {what}")
    except (ValueError, InputError) as exc:
        raise InputError(f"the JWS {what} is not base64url JSON", reason="bad-jws") from exc
    if not isinstance(value, dict):
        raise InputError(f"the JWS {what} must be a JSON object", reason="bad-jws")
    return value


def looks_like_compact_jws(text: str) -> bool:
    parts = text.split(".")
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    return len(parts) == 3 and all(parts[:2]) and all(set(p) <= allowed for p in parts)


def parse_compact(jws: str) -> ParsedJws:
    """Split and decode a compact JWS, checking sizes and the algorithm allow-list."""
    if not isinstance(jws, str):
        raise InputError("a JWS must be a string", reason="bad-jws")
    if len(jws) > MAX_JWS_CHARS:
        raise InputError(f"the JWS is longer than {MAX_JWS_CHARS} characters", reason="bad-jws")
    parts = jws.split(".")
    if len(parts) != 3:
        raise InputError(f"a compact JWS has 3 parts separated by '.', this one has {len(parts)}", reason="bad-jws")
    header_b64, payload_b64, signature_b64 = parts
    if len(header_b64) > MAX_HEADER_CHARS:
        raise InputError("the JWS header is too large", reason="bad-jws")
    header = _decode_json_part(header_b64, "header")
    alg = header.get("alg")
    if alg not in ALGORITHM_CURVES:
        raise InputError(f"JWS algorithm {alg!r} is not accepted; allowed: ES256K, ES256, EdDSA", reason="bad-jws")
    if "crit" in header:
        raise InputError("the JWS header has critical extensions (crit), which are not supported", reason="bad-jws")
    payload = _decode_json_part(payload_b64, "payload")
    try:
        signature = b64url_decode(signature_b64)
    except ValueError as exc:
        raise InputError("the JWS signature is not base64url", reason="bad-jws") from exc
    if not signature:
        raise InputError("the JWS has an empty signature", reason="bad-jws")
    return ParsedJws(header, payload, f"{header_b64}.{payload_b64}".encode("ascii"), signature)


def _key_curve(key: PublicKey | PrivateKey) -> str:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "ed25519"
    return key.curve.name


def algorithm_for(key: PublicKey | PrivateKey) -> str:
    curve = _key_curve(key)
    for alg, alg_curve in ALGORITHM_CURVES.items():
        if alg_curve == curve:
            return alg
    raise InputError(f"no accepted JWS algorithm signs with a {curve} key", reason="bad-jws")


def verify_signature(parsed: ParsedJws, key: PublicKey) -> None:
    """Raise InputError unless `parsed` is signed by `key` under its header's algorithm."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    alg = str(parsed.header["alg"])
    if _key_curve(key) != ALGORITHM_CURVES[alg]:
        raise InputError(f"JWS algorithm {alg} does not match the signer's {_key_curve(key)} key", reason="bad-jws")
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(parsed.signature, parsed.signing_input)
            return
        if len(parsed.signature) != 64:
            raise InputError(
                f"an {alg} signature is 64 bytes (r ‖ s), this one is {len(parsed.signature)}", reason="bad-jws"
            )
        r = int.from_bytes(parsed.signature[:32], "big")
        s = int.from_bytes(parsed.signature[32:], "big")
        key.verify(encode_dss_signature(r, s), parsed.signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise InputError("the JWS signature does not verify", reason="bad-jws") from None


def sign_compact(payload: JsonObject, key: PrivateKey, kid: str, *, include_jwk: bool = False) -> str:
    """`header.payload.signature` with header `{"alg","kid"[,"jwk"]}` and a JCS (RFC 8785) payload."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    from omareview.identity.keys import public_key_to_jwk

    header: JsonObject = {"alg": algorithm_for(key), "kid": kid}
    if include_jwk:
        header["jwk"] = public_key_to_jwk(key.public_key())
    header_b64 = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    payload_b64 = b64url_encode(rfc8785.dumps(payload))
    signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(signing_input)
    else:
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        size = (key.curve.key_size + 7) // 8
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return f"{header_b64}.{payload_b64}.{b64url_encode(signature)}"
