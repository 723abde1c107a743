"""EAS delegated attestations (EIP-712 `Attest`), with the domain detected from the contract.

Detection: `eip712Domain()` (EAS ≥ 1.2 with OpenZeppelin ≥ 4.9) gives name and version; otherwise
`getDomainSeparator()` is matched against the versions EAS has shipped. The version picks the type set:
< 1.2 legacy (no value, deadline or attester), < 1.3 "Version1", else "Version2"; `getAttestTypeHash()`
confirms the choice when the contract has it. (OP-stack predeploys report `version()` 1.4.1-beta.1 but sign
with domain version 1.3.0, which is why `version()` is never used for the domain.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, TypedDict

from pydantic import BeforeValidator, Field, JsonValue, PlainSerializer, StrictBool, ValidationError

from omareview._eip712 import digest, domain_separator, hash_struct, type_hash
from omareview._hashing import to_checksum_address
from omareview._wire import WireModel
from omareview.eas.abi import EIP712_DOMAIN, GET_ATTEST_TYPE_HASH, GET_DOMAIN_SEPARATOR, RequestData, encode_call
from omareview.eas.rpc import RpcClient, RpcError
from omareview.errors import ChainError, InputError

__all__ = [
    "KNOWN_VERSIONS",
    "AttestTypedData",
    "DelegatedAttestation",
    "EasDomain",
    "RelayDelegatedRequest",
    "RelayDomain",
    "RelayPrepared",
    "RelayRequest",
    "RelayTypedData",
    "TypeSet",
    "attest_digest",
    "attest_type_hash",
    "attest_typed_data",
    "detect_domain",
]

TypeSet = Literal["legacy", "v1", "v2"]
KNOWN_VERSIONS = ("0.26", "1.0.0", "1.0.1", "1.0.2", "1.1.0", "1.2.0", "1.3.0", "1.4.0")


class TypedDataField(TypedDict):
    """One field of an EIP-712 struct type."""

    name: str
    type: str


class Eip712Domain(TypedDict):
    """An EIP-712 domain, as typed data carries it."""

    name: str
    version: str
    chainId: int
    verifyingContract: str


class AttestTypedData(TypedDict):
    """The EIP-712 typed data of a delegated `Attest`, as wallets sign it: values as the ABI takes them."""

    types: dict[str, list[TypedDataField]]
    primaryType: Literal["Attest"]
    domain: Eip712Domain
    message: dict[str, str | bytes | int | bool]


_DOMAIN_TYPE: list[TypedDataField] = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_ATTEST_FIELDS: dict[TypeSet, list[tuple[str, str]]] = {
    "legacy": [
        ("schema", "bytes32"),
        ("recipient", "address"),
        ("expirationTime", "uint64"),
        ("revocable", "bool"),
        ("refUID", "bytes32"),
        ("data", "bytes"),
        ("nonce", "uint256"),
    ],
    "v1": [
        ("schema", "bytes32"),
        ("recipient", "address"),
        ("expirationTime", "uint64"),
        ("revocable", "bool"),
        ("refUID", "bytes32"),
        ("data", "bytes"),
        ("value", "uint256"),
        ("nonce", "uint256"),
        ("deadline", "uint64"),
    ],
}
_ATTEST_FIELDS["v2"] = [("attester", "address"), *_ATTEST_FIELDS["v1"]]


def attest_type_hash(type_set: TypeSet) -> bytes:
    return type_hash("Attest", _ATTEST_FIELDS[type_set])


@dataclass(frozen=True)
class EasDomain:
    name: str
    version: str
    chain_id: int
    verifying_contract: str

    @property
    def type_set(self) -> TypeSet:
        parts = tuple(int(p) for p in self.version.split("-")[0].split(".")[:2] if p.isdigit())
        if parts < (1, 2):
            return "legacy"
        return "v1" if parts < (1, 3) else "v2"

    def separator(self) -> bytes:
        return domain_separator(self.name, self.version, self.chain_id, self.verifying_contract)

    def as_typed_data(self) -> Eip712Domain:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


def _call(rpc: RpcClient, eas: str, signature: str) -> bytes | None:
    try:
        result = rpc.eth_call(eas, encode_call(signature))
    except RpcError:
        return None
    return result or None


def detect_domain(rpc: RpcClient, eas_address: str, chain_id: int) -> EasDomain:
    """The EIP-712 domain this EAS contract verifies delegated signatures under."""
    eas = to_checksum_address(eas_address)
    raw = _call(rpc, eas, EIP712_DOMAIN)
    if raw is not None:
        from eth_abi.abi import decode as abi_decode

        _, name, version, domain_chain, contract, _, _ = abi_decode(
            ["bytes1", "string", "string", "uint256", "address", "bytes32", "uint256[]"], raw
        )
        domain = EasDomain(name, version, int(domain_chain), to_checksum_address(contract))
    else:
        separator = _call(rpc, eas, GET_DOMAIN_SEPARATOR)
        if separator is None:
            raise ChainError(
                f"{eas} exposes neither eip712Domain() nor getDomainSeparator(): is it an EAS contract?",
                reason="bad-eas-domain",
            )
        candidates = (EasDomain("EAS", version, chain_id, eas) for version in KNOWN_VERSIONS)
        match = next((d for d in candidates if d.separator() == separator), None)
        if match is None:
            raise ChainError(
                f"the EIP-712 domain of EAS at {eas} matches no known EAS version {KNOWN_VERSIONS}",
                reason="bad-eas-domain",
            )
        domain = match
    type_hash = _call(rpc, eas, GET_ATTEST_TYPE_HASH)
    if type_hash is not None and type_hash != attest_type_hash(domain.type_set):
        raise ChainError(
            f"EAS at {eas} (domain version {domain.version}) uses an Attest type omareview does not know",
            reason="bad-eas-domain",
        )
    return domain


def _attest_values(
    attester: str, schema_uid: str, request: RequestData, nonce: int, deadline: int
) -> dict[str, str | bytes | int | bool]:
    return {
        "attester": attester,
        "schema": bytes.fromhex(schema_uid.removeprefix("0x")),
        "recipient": request.recipient,
        "expirationTime": request.expiration_time,
        "revocable": request.revocable,
        "refUID": bytes.fromhex(request.ref_uid.removeprefix("0x")),
        "data": request.data,
        "value": request.value,
        "nonce": nonce,
        "deadline": deadline,
    }


def attest_digest(
    domain: EasDomain, attester: str, schema_uid: str, request: RequestData, nonce: int, deadline: int
) -> bytes:
    """The EIP-712 digest an attester signs to have `request` attested on its behalf."""
    fields = _ATTEST_FIELDS[domain.type_set]
    values = _attest_values(attester, schema_uid, request, nonce, deadline)
    return digest(domain.separator(), hash_struct(attest_type_hash(domain.type_set), fields, values))


def attest_typed_data(
    domain: EasDomain, attester: str, schema_uid: str, request: RequestData, nonce: int, deadline: int
) -> AttestTypedData:
    """The same message as full EIP-712 typed data, as relays and wallets take it."""
    values = _attest_values(attester, schema_uid, request, nonce, deadline)
    fields = _ATTEST_FIELDS[domain.type_set]
    return {
        "types": {"EIP712Domain": _DOMAIN_TYPE, "Attest": [{"name": n, "type": t} for n, t in fields]},
        "primaryType": "Attest",
        "domain": domain.as_typed_data(),
        "message": {name: values[name] for name, _ in fields},
    }


def _uint(value: object) -> int:
    """A uint256 as a JSON integer or a string of ASCII digits (never a float, whose `1e999` is infinite)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 78:
        number = int(value)
    else:
        raise ValueError(f"{str(value)[:20]!r} is not a whole number")
    if not 0 <= number < 2**256:
        raise ValueError(f"{str(value)[:20]!r} is not a uint256")
    return number


def _hex(value: object) -> str:
    """0x-prefixed hex, lowercase."""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"{str(value)[:20]!r} is not 0x-prefixed hex")
    return "0x" + bytes.fromhex(value[2:]).hex()


#: A uint256 read from a number or decimal digits, and sent as decimal digits (relays take big numbers so).
Uint256 = Annotated[int, BeforeValidator(_uint), PlainSerializer(str, return_type=str)]
Hex = Annotated[str, BeforeValidator(_hex)]


class RelayDelegatedRequest(WireModel):
    """The attestation request of a relay body (OMATrust's `delegatedRequest`).

    Attributes:
        schema_uid: the schema (`schema`).
        attester: who signed.
        eas_contract_address: the EAS contract it is for.
        chain_id: the chain it is for.
        recipient: the subject's DID address.
        expiration_time: when it expires (0: never).
        revocable: whether it can be revoked.
        ref_uid: the attestation it refers to (`refUID`).
        data: the attestation data.
        value: the ETH sent with it.
        nonce: the attester's EAS nonce the signature uses.
        deadline: the time after which EAS refuses the signature.
    """

    schema_uid: Hex = Field(alias="schema")
    attester: str | None = None
    eas_contract_address: str | None = None
    chain_id: int | None = None
    recipient: str
    expiration_time: Uint256
    revocable: StrictBool
    ref_uid: Hex = Field(alias="refUID")
    data: Hex
    value: Uint256
    nonce: Uint256
    deadline: Uint256


class RelayDomain(WireModel):
    """The EIP-712 domain in a relay body's typed data.

    Attributes:
        name: the domain's name (`EAS`).
        version: the EAS version.
        chain_id: the chain.
        verifying_contract: the EAS contract.
    """

    name: str
    version: str
    chain_id: int
    verifying_contract: str

    @classmethod
    def of(cls, domain: EasDomain) -> RelayDomain:
        """The JSON form of an EAS EIP-712 domain."""
        return cls(
            name=domain.name,
            version=domain.version,
            chain_id=domain.chain_id,
            verifying_contract=domain.verifying_contract,
        )


class RelayTypedData(WireModel):
    """A relay body's typed data: what the attester signed, big numbers as decimal strings.

    Attributes:
        domain: the EIP-712 domain.
        types: the `Attest` struct type.
        message: the signed values.
    """

    domain: RelayDomain
    types: dict[str, list[dict[str, str]]]
    message: dict[str, JsonValue]


class RelayPrepared(WireModel):
    """The prepared part of a relay body.

    Attributes:
        delegated_request: the request the relayer sends.
        typed_data: what the attester signed (a relay reads its own domain, never this one).
    """

    delegated_request: RelayDelegatedRequest
    typed_data: RelayTypedData | None = None


class RelayRequest(WireModel):
    """The body of an OMATrust-compatible relay's `POST /v1/delegated-attest`.

    Attributes:
        attester: who signed.
        signature: the 65-byte signature, as hex.
        prepared: the request, and what was signed.
    """

    attester: str
    signature: Hex
    prepared: RelayPrepared


@dataclass(frozen=True)
class DelegatedAttestation:
    """An attestation request signed by its attester, ready for a relayer or an OMATrust-compatible relay.

    Attributes:
        domain: the EAS EIP-712 domain the signature is under.
        schema_uid: the schema attested to.
        request: the attestation request (recipient, data, expiry, value).
        attester: the address that signed and will be recorded as attester.
        nonce: the attester's EAS nonce the signature uses.
        deadline: the Unix time after which EAS refuses the signature.
        v: signature recovery byte.
        r: signature `r`.
        s: signature `s`.
    """

    domain: EasDomain
    schema_uid: str
    request: RequestData
    attester: str
    nonce: int
    deadline: int
    v: int
    r: bytes
    s: bytes

    @property
    def signature(self) -> str:
        return "0x" + self.r.hex() + self.s.hex() + bytes([self.v]).hex()

    def typed_data(self) -> AttestTypedData:
        return attest_typed_data(self.domain, self.attester, self.schema_uid, self.request, self.nonce, self.deadline)

    def relay_body(self) -> RelayRequest:
        """The OMATrust relay's `/v1/delegated-attest` body (big numbers as decimal strings)."""
        typed = self.typed_data()
        message: dict[str, JsonValue] = {
            key: (
                "0x" + value.hex()
                if isinstance(value, bytes)
                else str(value)
                if isinstance(value, int) and not isinstance(value, bool)
                else value
            )
            for key, value in typed["message"].items()
        }
        request = RelayDelegatedRequest(
            schema_uid=self.schema_uid,
            attester=self.attester,
            eas_contract_address=self.domain.verifying_contract,
            chain_id=self.domain.chain_id,
            recipient=self.request.recipient,
            expiration_time=self.request.expiration_time,
            revocable=self.request.revocable,
            ref_uid=self.request.ref_uid,
            data="0x" + self.request.data.hex(),
            value=self.request.value,
            nonce=self.nonce,
            deadline=self.deadline,
        )
        domain = RelayDomain.of(self.domain)
        attest = [dict(field) for field in typed["types"]["Attest"]]
        signed = RelayTypedData(domain=domain, types={"Attest": attest}, message=message)
        return RelayRequest(
            attester=self.attester,
            signature=self.signature,
            prepared=RelayPrepared(delegated_request=request, typed_data=signed),
        )

    @classmethod
    def from_relay_body(cls, body: object, domain: EasDomain) -> DelegatedAttestation:
        """The inverse of `relay_body`, for a relay reading what a client sent: the request and signature under
        the relay's own `domain` (a client's typed data is never trusted for it). InputError when malformed."""
        try:
            parsed = body if isinstance(body, RelayRequest) else RelayRequest.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise InputError(f"the delegated attestation is malformed ({where}: {first['msg']})") from None
        request = parsed.prepared.delegated_request
        try:
            recipient, attester = to_checksum_address(request.recipient), to_checksum_address(parsed.attester)
        except ValueError as exc:
            raise InputError(f"the delegated attestation is malformed ({exc})") from None
        data = RequestData(
            recipient,
            request.expiration_time,
            request.revocable,
            "0x" + bytes.fromhex(request.ref_uid[2:]).rjust(32, b"\0").hex(),
            bytes.fromhex(request.data[2:]),
            request.value,
        )
        signature, schema, deadline = bytes.fromhex(parsed.signature[2:]), request.schema_uid, request.deadline
        if len(signature) != 65 or len(schema) != 66 or deadline >= 2**64 or data.expiration_time >= 2**64:
            raise InputError("the delegated attestation's signature, schema or numbers are malformed")
        v = signature[64] if signature[64] >= 27 else signature[64] + 27
        return cls(domain, schema, data, attester, request.nonce, deadline, v, signature[:32], signature[32:64])

    def digest(self) -> bytes:
        """The EIP-712 digest the attester signed."""
        return attest_digest(self.domain, self.attester, self.schema_uid, self.request, self.nonce, self.deadline)
