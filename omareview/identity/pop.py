"""OMATrust proofs of shared control: `pop-eip712` (an EVM wallet's typed-data signature) and `pop-jws` (a
compact JWS carrying its public key, or an ES256K one whose signer is named beforehand), read to answer "who
signed, naming whom, when".

A proof says: *its signer* authorizes *its audience* (`authorizedEntity` / `aud`) for a purpose. Linked
Identifiers and Key Bindings carry such proofs; `signed_by` and `proves` tell whether one was made by a
given DID for another.

The published proof spec and OMATrust's SDK disagree on `pop-eip712`: the spec's domain is `OMATrustProof`
with primary type `OMATrustProof` and `uint64` timestamps, the SDK's is `OMATrust Proof`, `OmaTrustProof`
and `uint256`. The two hash differently; both are read (chosen by the domain's name), and the spec's form
is written. For `pop-jws` the purpose claim is `proofPurpose` (spec) or `purpose` (SDK); both are read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from omareview._eip712 import TypedField, domain_separator, hash_struct, recover_signer, type_hash
from omareview._eip712 import digest as typed_digest
from omareview._hashing import is_address, to_checksum_address
from omareview._json import JsonMapping, JsonObject
from omareview.errors import InputError
from omareview.identity._b64 import b64url_encode
from omareview.identity.dids import normalize_did
from omareview.identity.jws import PrivateKey, parse_compact, sign_compact, verify_signature
from omareview.identity.keys import (
    PublicKey,
    evm_address_of_key,
    jwk_to_public_key,
    key_from_did,
    keys_equal,
    solana_address_of_key,
)
from omareview.signers import HashSigner

__all__ = [
    "POP_CLOCK_SKEW_S",
    "SHARED_CONTROL",
    "PopProof",
    "denotes",
    "make_pop_eip712",
    "make_pop_jws",
    "make_subject_pop_jws",
    "proves",
    "read_pop",
]

SHARED_CONTROL = "shared-control"
POP_CLOCK_SKEW_S = 300
_STATEMENT = "This is not a transaction or asset approval."


def _fields(timestamp: str) -> tuple[TypedField, ...]:
    return (
        ("signer", "address"),
        ("authorizedEntity", "string"),
        ("signingPurpose", "string"),
        ("creationTimestamp", timestamp),
        ("expirationTimestamp", timestamp),
        ("randomValue", "bytes32"),
        ("statement", "string"),
    )


# domain name → (primary type, its fields): the spec's form first (the one written), then the SDK's.
_VARIANTS: dict[str, tuple[str, tuple[TypedField, ...]]] = {
    "OMATrustProof": ("OMATrustProof", _fields("uint64")),
    "OMATrust Proof": ("OmaTrustProof", _fields("uint256")),
}


def _pop_digest(domain_name: str, chain_id: int, values: JsonMapping) -> bytes:
    primary, fields = _VARIANTS[domain_name]
    separator = domain_separator(domain_name, "1", chain_id)
    return typed_digest(separator, hash_struct(type_hash(primary, fields), fields, values))


@dataclass(frozen=True)
class PopProof:
    """A verified proof of shared control: who signed it, for whom, and when it holds.

    Attributes:
        proof_type: `pop-eip712` or `pop-jws`.
        address: the signing EVM address (a `pop-eip712`, or a `pop-jws` by a secp256k1 key).
        key: the signing public key (a `pop-jws`).
        audience: the entity the signer authorizes (`authorizedEntity` / `aud`).
        purpose: the stated purpose, when stated.
        issued_at: when it was made (0 when not stated).
        expires_at: when it lapses (None: never).
    """

    proof_type: str
    address: str | None
    key: PublicKey | None
    audience: str
    purpose: str | None
    issued_at: int
    expires_at: int | None

    def holds_at(self, at: int) -> bool:
        """Made before `at` (with clock skew) and not lapsed by then."""
        return self.issued_at <= at + POP_CLOCK_SKEW_S and (self.expires_at is None or at <= self.expires_at)


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise InputError(f"the proof's {what} is not a whole number", reason="bad-proof")
    return int(value)


def _read_eip712(proof: JsonMapping) -> PopProof:
    domain, message = proof.get("domain"), proof.get("message")
    if not isinstance(domain, dict) or not isinstance(message, dict):
        raise InputError("a pop-eip712 proof needs a domain and a message", reason="bad-proof")
    name = str(domain.get("name"))
    if name not in _VARIANTS or str(domain.get("version")) != "1":
        raise InputError(f"unknown pop-eip712 domain {domain.get('name')!r}", reason="bad-proof")
    signer = message.get("signer")
    if not isinstance(signer, str) or not is_address(signer):
        raise InputError("the pop-eip712 signer is not an address", reason="bad-proof")
    created = _int(message.get("creationTimestamp"), "creationTimestamp")
    expires = _int(message.get("expirationTimestamp"), "expirationTimestamp")
    try:
        random_value = bytes.fromhex(str(message.get("randomValue", "")).removeprefix("0x"))
    except ValueError:
        raise InputError("the pop-eip712 randomValue is not hex", reason="bad-proof") from None
    if len(random_value) != 32:
        raise InputError("the pop-eip712 randomValue is not 32 bytes", reason="bad-proof")
    values = {
        "signer": signer,
        "authorizedEntity": str(message.get("authorizedEntity", "")),
        "signingPurpose": str(message.get("signingPurpose", "")),
        "creationTimestamp": created,
        "expirationTimestamp": expires,
        "randomValue": random_value,
        "statement": str(message.get("statement", "")),
    }
    digest = _pop_digest(name, _int(domain.get("chainId"), "chainId"), values)
    recovered = recover_signer(digest, str(proof.get("signature", "")))
    if recovered != to_checksum_address(signer):
        raise InputError("the pop-eip712 signature is not the signer's", reason="bad-proof")
    return PopProof(
        proof_type="pop-eip712",
        address=recovered,
        key=None,
        audience=str(values["authorizedEntity"]),
        purpose=str(values["signingPurpose"]) or None,
        issued_at=created,
        expires_at=expires or None,
    )


def _read_jws(compact: str, expected_signer: str | None) -> PopProof:
    parsed = parse_compact(compact)
    claims = parsed.payload
    jwk = parsed.header.get("jwk")
    issuer = str(claims.get("iss", ""))
    key: PublicKey | None
    if jwk is not None:
        key = jwk_to_public_key(jwk)
    else:
        try:
            key = key_from_did(issuer)
        except InputError:
            key = None
    if key is not None:
        verify_signature(parsed, key)
        address = evm_address_of_key(key)
    else:
        address = _keyless_es256k_signer(parsed.header, parsed.signing_input, parsed.signature, issuer, expected_signer)
    purpose = claims.get("proofPurpose", claims.get("purpose"))
    expires = claims.get("exp")
    return PopProof(
        proof_type="pop-jws",
        address=address,
        key=key,
        audience=str(claims.get("aud", "")),
        purpose=str(purpose) if purpose is not None else None,
        issued_at=_int(claims.get("iat", 0), "iat"),
        expires_at=_int(expires, "exp") if expires is not None else None,
    )


def _keyless_es256k_signer(
    header: JsonMapping, signing_input: bytes, signature: bytes, issuer: str, expected: str | None
) -> str:
    """The signer of an ES256K JWS that carries no key (as OMATrust's SDK writes them: `{typ, alg}` only):
    an r ‖ s signature recovers two candidate keys, so it proves a signer only against an address named
    beforehand: the issuer's, when it is an EVM `did:pkh`, else `expected` (for a Key Binding, the
    subject's controller that attested it). An `iss` naming a did:web proves nothing by itself: anyone
    can write one."""
    import hashlib

    import coincurve

    from omareview._hashing import address_of_point

    named = expected
    if issuer.lower().startswith("did:pkh:eip155:") and is_address(issuer.rsplit(":", 1)[-1]):
        named = issuer.rsplit(":", 1)[-1]
    if header.get("alg") != "ES256K" or len(signature) != 64 or named is None:
        raise InputError("a pop-jws needs a `jwk` header or a did:jwk/did:key issuer", reason="bad-proof")
    digest = hashlib.sha256(signing_input).digest()
    for recovery_id in (0, 1):
        try:
            candidate = coincurve.PublicKey.from_signature_and_message(
                signature + bytes([recovery_id]), digest, hasher=None
            )
        except ValueError:
            continue
        if address_of_point(candidate.format(compressed=False)) == to_checksum_address(named):
            return to_checksum_address(named)
    raise InputError("the pop-jws signature is not by the signer it names", reason="bad-proof")


def read_pop(wrapper: object, *, expected_signer: str | None = None) -> PopProof:
    """Verify one proof wrapper (a dict, or its JSON text as stored on-chain); InputError when it is not a
    `pop-eip712` / `pop-jws` proof whose signature holds. `expected_signer` (an address) is the signer a
    key-less ES256K `pop-jws` is checked against when its issuer is not an address of its own."""
    if isinstance(wrapper, str):
        try:
            wrapper = json.loads(wrapper)
        except ValueError:
            raise InputError("the proof is not JSON", reason="bad-proof") from None
    if not isinstance(wrapper, dict):
        raise InputError("a proof is a JSON object", reason="bad-proof")
    kind, body = wrapper.get("proofType"), wrapper.get("proofObject")
    if kind == "pop-eip712" and isinstance(body, dict):
        return _read_eip712(body)
    if kind == "pop-jws" and isinstance(body, str):
        return _read_jws(body, expected_signer)
    raise InputError(f"not a proof of shared control ({kind!r})", reason="bad-proof")


def denotes(did: str, *, address: str | None = None, key: PublicKey | None = None) -> bool:
    """Whether `did` names the holder of this EVM address or this key: an eip155 `did:pkh` of the address
    (any chain), a solana `did:pkh` of the Ed25519 key's address, a `did:jwk` / `did:key` of the key."""
    try:
        normalized = normalize_did(did)
    except InputError:
        return False
    parts = normalized.split(":")
    if parts[1] == "pkh" and len(parts) == 5:
        if parts[2] == "eip155":
            account = address or (evm_address_of_key(key) if key is not None else None)
            return account is not None and parts[4] == account.lower()
        if parts[2] == "solana":
            return key is not None and solana_address_of_key(key) == parts[4]
        return False
    if key is None or parts[1] not in ("jwk", "key"):
        return False
    try:
        return keys_equal(key_from_did(normalized), key)
    except InputError:
        return False


def proves(wrapper: object, signer: str, audience: str, at: int) -> bool:
    """A valid proof, made by `signer` (a DID), authorizing `audience` (a DID), holding at time `at`, for
    shared control when it states a purpose."""
    try:
        proof = read_pop(wrapper)
        wanted = normalize_did(audience)
        named = normalize_did(proof.audience)
    except InputError:
        return False
    return (
        named == wanted
        and proof.purpose in (None, SHARED_CONTROL)
        and proof.holds_at(at)
        and denotes(signer, address=proof.address, key=proof.key)
    )


def make_pop_eip712(signer: HashSigner, audience: str, chain_id: int, now: int, valid_s: int) -> JsonObject:
    """A `pop-eip712` proof wrapper, in the spec's form, by which `signer` authorizes `audience`."""
    random_value = os.urandom(32)
    message: JsonObject = {
        "signer": signer.address,
        "authorizedEntity": audience,
        "signingPurpose": SHARED_CONTROL,
        "creationTimestamp": now,
        "expirationTimestamp": now + valid_s,
        "randomValue": "0x" + random_value.hex(),
        "statement": _STATEMENT,
    }
    digest = _pop_digest("OMATrustProof", chain_id, {**message, "randomValue": random_value})
    v, r, s = signer.sign_hash(digest)
    return {
        "proofType": "pop-eip712",
        "proofPurpose": SHARED_CONTROL,
        "proofObject": {
            "domain": {"name": "OMATrustProof", "version": "1", "chainId": chain_id},
            "message": message,
            "signature": "0x" + r.hex() + s.hex() + bytes([v]).hex(),
        },
        "version": 1,
        "issuedAt": now,
        "expiresAt": now + valid_s,
    }


def make_pop_jws(key: PrivateKey, issuer: str, audience: str, now: int, valid_s: int) -> JsonObject:
    """A `pop-jws` proof wrapper: `issuer` (the key's DID) authorizes `audience`, the key in the header."""
    claims = {
        "iss": issuer,
        "aud": audience,
        "proofPurpose": SHARED_CONTROL,
        "iat": now,
        "exp": now + valid_s,
        "jti": os.urandom(16).hex(),
    }
    return {
        "proofType": "pop-jws",
        "proofPurpose": SHARED_CONTROL,
        "proofObject": sign_compact(claims, key, issuer, include_jwk=True),
        "version": 1,
        "issuedAt": now,
        "expiresAt": now + valid_s,
    }


def make_subject_pop_jws(controller: HashSigner, subject: str, key_id: str, now: int, valid_s: int) -> JsonObject:
    """A `pop-jws` in the form OMATrust's SDK writes and verifies for a Key Binding: the subject (`iss`)
    authorizes the key (`aud`), an ES256K JWS with a `{typ, alg}` header, signed by the subject's
    controller wallet (whose address a reader recovers it against)."""
    import hashlib

    claims = {
        "iss": subject,
        "aud": key_id,
        "purpose": SHARED_CONTROL,
        "iat": now,
        "exp": now + valid_s,
        "nonce": os.urandom(16).hex(),
    }
    header = b64url_encode(json.dumps({"typ": "JWT", "alg": "ES256K"}, separators=(",", ":")).encode())
    payload = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    _, r, s = controller.sign_hash(hashlib.sha256(f"{header}.{payload}".encode("ascii")).digest())
    return {
        "proofType": "pop-jws",
        "proofPurpose": SHARED_CONTROL,
        "proofObject": f"{header}.{payload}.{b64url_encode(r + s)}",
        "version": 1,
        "issuedAt": now,
        "expiresAt": now + valid_s,
    }
