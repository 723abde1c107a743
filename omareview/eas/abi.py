"""EAS 1.4.0 calls, encoded with eth-abi, and the revert-decoding table (custom errors → messages)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from omareview._hashing import keccak, to_checksum_address
from omareview.eas._fixed_layout import decode_attestation_fields
from omareview.eas.schema_codec import split_top_level
from omareview.errors import InputError

__all__ = [
    "ATTEST",
    "ATTESTED_TOPIC",
    "ATTEST_BY_DELEGATION",
    "ATTEST_BY_DELEGATION_LEGACY",
    "EIP712_DOMAIN",
    "GET_ATTESTATION",
    "GET_ATTEST_TYPE_HASH",
    "GET_DOMAIN_SEPARATOR",
    "GET_NONCE",
    "LEGACY_VERSION",
    "MULTI_ATTEST",
    "REVERT_MESSAGES",
    "REVOKE",
    "REVOKED_TOPIC",
    "VERSION",
    "ZERO_UID",
    "Attestation",
    "EasRevertError",
    "RequestData",
    "attest_by_delegation_call",
    "attest_call",
    "attestation_of",
    "decode_attestation",
    "decode_revert",
    "encode_call",
    "multi_attest_call",
    "revoke_call",
    "selector",
]

ATTESTED_TOPIC = "0x8bf46bf4cfd674fa735a3d63ec1c9ad4153f033c290341f3a588b75685141b35"
# Revoked(address indexed recipient, address indexed attester, bytes32 uid, bytes32 indexed schemaUID)
REVOKED_TOPIC = "0xf930a6e2523c9cc298691873087a740550b8fc85a0680830414c148ed927f615"
ZERO_UID = "0x" + "00" * 32

_REQUEST_DATA = "(address,uint64,bool,bytes32,bytes,uint256)"
_SIGNATURE = "(uint8,bytes32,bytes32)"
_ATTESTATION = "(bytes32,bytes32,uint64,uint64,uint64,bytes32,address,address,bool,bytes)"


def selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


ATTEST = f"attest((bytes32,{_REQUEST_DATA}))"
MULTI_ATTEST = f"multiAttest((bytes32,{_REQUEST_DATA}[])[])"
REVOKE = "revoke((bytes32,(bytes32,uint256)))"
ATTEST_BY_DELEGATION = f"attestByDelegation((bytes32,{_REQUEST_DATA},{_SIGNATURE},address,uint64))"
ATTEST_BY_DELEGATION_LEGACY = f"attestByDelegation((bytes32,{_REQUEST_DATA},{_SIGNATURE},address))"
GET_ATTESTATION = "getAttestation(bytes32)"
GET_NONCE = "getNonce(address)"
EIP712_DOMAIN = "eip712Domain()"
GET_DOMAIN_SEPARATOR = "getDomainSeparator()"
GET_ATTEST_TYPE_HASH = "getAttestTypeHash()"
VERSION = "version()"
LEGACY_VERSION = "VERSION()"


class RequestData(NamedTuple):
    """`AttestationRequestData`: what one attestation asks for."""

    recipient: str
    expiration_time: int
    revocable: bool
    ref_uid: str
    data: bytes
    value: int = 0

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.recipient, self.expiration_time, self.revocable, _b32(self.ref_uid), self.data, self.value)


class Attestation(NamedTuple):
    uid: str
    schema: str
    time: int
    expiration_time: int
    revocation_time: int
    ref_uid: str
    recipient: str
    attester: str
    revocable: bool
    data: bytes


def _b32(hex_value: str) -> bytes:
    raw = bytes.fromhex(hex_value.removeprefix("0x"))
    if len(raw) != 32:
        raise InputError(f"{hex_value!r} is not 32 bytes", reason="eas-reverted")
    return raw


def encode_call(signature: str, args: Sequence[Any] = ()) -> bytes:
    """Call data: the selector, then the arguments (32-byte words as they are; anything else by eth_abi,
    imported only then: it costs about 80 ms to import)."""
    types = signature[signature.index("(") + 1 : -1]
    arg_types = split_top_level(types) if types else []
    if all(t == "bytes32" and isinstance(a, bytes) and len(a) == 32 for t, a in zip(arg_types, args, strict=True)):
        return selector(signature) + b"".join(args)
    from eth_abi.abi import encode as abi_encode

    return selector(signature) + abi_encode(arg_types, list(args))


def attest_call(schema_uid: str, request: RequestData) -> bytes:
    return encode_call(ATTEST, [(_b32(schema_uid), request.as_tuple())])


def revoke_call(schema_uid: str, uid: str) -> bytes:
    return encode_call(REVOKE, [(_b32(schema_uid), (_b32(uid), 0))])


def multi_attest_call(schema_uid: str, requests: Sequence[RequestData]) -> bytes:
    return encode_call(MULTI_ATTEST, [[(_b32(schema_uid), [r.as_tuple() for r in requests])]])


def attest_by_delegation_call(
    schema_uid: str, request: RequestData, v: int, r: bytes, s: bytes, attester: str, deadline: int | None
) -> bytes:
    """The 1.2+ ABI with `deadline`, or the legacy one (≤ 1.1) when `deadline` is None."""
    fields: list[Any] = [_b32(schema_uid), request.as_tuple(), (v, r, s), attester]
    if deadline is None:
        return encode_call(ATTEST_BY_DELEGATION_LEGACY, [tuple(fields)])
    return encode_call(ATTEST_BY_DELEGATION, [(*fields, deadline)])


def decode_attestation(raw: bytes) -> Attestation:
    """`getAttestation`'s return data: the fixed layout when canonical, else eth_abi's generic decoder."""
    fast = decode_attestation_fields(raw)
    if fast is not None:
        fields: list[Any] = list(fast)
        fields[6], fields[7] = "0x" + fast[6].hex(), "0x" + fast[7].hex()
        return attestation_of(fields)
    from eth_abi.abi import decode as abi_decode

    (value,) = abi_decode([_ATTESTATION], raw)
    return attestation_of(tuple(value))


def attestation_of(fields: Sequence[Any]) -> Attestation:
    """The `Attestation` of decoded struct fields (bytes32 as bytes, addresses as hex text)."""
    uid, schema, time, expiration, revocation, ref_uid, recipient, attester, revocable, data = fields
    return Attestation(
        "0x" + uid.hex(),
        "0x" + schema.hex(),
        time,
        expiration,
        revocation,
        "0x" + ref_uid.hex(),
        to_checksum_address(recipient),
        to_checksum_address(attester),
        revocable,
        data,
    )


_ERRORS = {
    "AccessDenied()": "access denied: only the original attester can do this, or a resolver refused the caller",
    "AlreadyExists()": "the schema is already registered",
    "AlreadyRevoked()": "the attestation is already revoked",
    "AlreadyRevokedOffchain()": "this revoker already revoked that off-chain UID",
    "AlreadyTimestamped()": "the data is already timestamped",
    "DeadlineExpired()": "the delegated signature's deadline has passed; sign it again",
    "InsufficientValue()": "the ETH values exceed what was sent",
    "InvalidAttestation()": "the schema's resolver rejected the attestation",
    "InvalidAttestations()": "the schema's resolver rejected the batch",
    "InvalidEAS()": "zero EAS address",
    "InvalidExpirationTime()": "expirationTime must be 0 or in the future",
    "InvalidLength()": "an empty batch, or data and signatures of different lengths",
    "InvalidNonce()": "the nonce can only go up",
    "InvalidOffset()": "offset past the end of the list",
    "InvalidRegistry()": "zero schema registry address",
    "InvalidRevocation()": "the schema's resolver rejected the revocation",
    "InvalidRevocations()": "the schema's resolver rejected the batch revocation",
    "InvalidSchema()": "the schema UID is not registered on this EAS (wrong schema UID or network?)",
    "InvalidSignature()": (
        "the delegated signature is invalid: wrong EIP-712 domain or types, or a stale or reused nonce"
    ),
    "InvalidVerifier()": "invalid verifier",
    "Irrevocable()": "the schema is irrevocable: attestations to it must have revocable=false",
    "NotFound()": "the referenced attestation does not exist",
    "NotPayable()": "ETH was sent but the schema has no payable resolver",
    "WrongSchema()": "wrong schema",
    "UsedSignature()": "the signature was already used",
}
REVERT_MESSAGES = {"0x" + selector(name).hex(): (name, message) for name, message in _ERRORS.items()}
_ERROR_STRING = "0x08c379a0"
_PANIC = "0x4e487b71"


class EasRevertError(InputError):
    """EAS refused the call; `error` is the custom error's name (e.g. `Irrevocable()`)."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error


def decode_revert(data: str | None, what: str) -> EasRevertError:
    """A clear error for revert data; empty data means the function is not on that contract."""
    if not data or data == "0x":
        return EasRevertError(
            "",
            f"{what} reverted without a reason: the address is not an EAS contract, or its EAS version lacks "
            "this function (check the EAS address and the network)",
        )
    head = data[:10].lower()
    if head in REVERT_MESSAGES:
        name, message = REVERT_MESSAGES[head]
        return EasRevertError(name, f"{what} refused by EAS: {message} ({name})")
    from eth_abi.abi import decode as abi_decode

    if head == _ERROR_STRING:
        (reason,) = abi_decode(["string"], bytes.fromhex(data[10:]))
        return EasRevertError("Error(string)", f"{what} reverted: {reason}")
    if head == _PANIC:
        (code,) = abi_decode(["uint256"], bytes.fromhex(data[10:]))
        return EasRevertError("Panic(uint256)", f"{what} reverted with panic code {code:#x}")
    return EasRevertError("", f"{what} reverted with unknown error data {data[:74]}")
