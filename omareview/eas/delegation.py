"""EAS delegated attestations (EIP-712 `Attest`), with the domain detected from the contract.

Detection: `eip712Domain()` (EAS ≥ 1.2 with OpenZeppelin ≥ 4.9) gives name and version; otherwise
`getDomainSeparator()` is matched against the versions EAS has shipped. The version picks the type set:
< 1.2 legacy (no value, deadline or attester), < 1.3 "Version1", else "Version2"; `getAttestTypeHash()`
confirms the choice when the contract has it. (OP-stack predeploys report `version()` 1.4.1-beta.1 but sign
with domain version 1.3.0, which is why `version()` is never used for the domain.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from omareview._eip712 import digest, domain_separator, hash_struct, type_hash
from omareview._hashing import to_checksum_address
from omareview.eas.abi import EIP712_DOMAIN, GET_ATTEST_TYPE_HASH, GET_DOMAIN_SEPARATOR, RequestData, encode_call
from omareview.eas.rpc import RpcClient, RpcError
from omareview.errors import ChainError

__all__ = [
    "KNOWN_VERSIONS",
    "EasDomain",
    "TypeSet",
    "attest_digest",
    "attest_type_hash",
    "attest_typed_data",
    "detect_domain",
]

TypeSet = Literal["legacy", "v1", "v2"]
KNOWN_VERSIONS = ("0.26", "1.0.0", "1.0.1", "1.0.2", "1.1.0", "1.2.0", "1.3.0", "1.4.0")
_DOMAIN_TYPE = [
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

    def as_typed_data(self) -> dict[str, Any]:
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


def _attest_values(attester: str, schema_uid: str, request: RequestData, nonce: int, deadline: int) -> dict[str, Any]:
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
) -> dict[str, Any]:
    """The same message as full EIP-712 typed data, as relays and wallets take it."""
    values = _attest_values(attester, schema_uid, request, nonce, deadline)
    fields = _ATTEST_FIELDS[domain.type_set]
    return {
        "types": {"EIP712Domain": _DOMAIN_TYPE, "Attest": [{"name": n, "type": t} for n, t in fields]},
        "primaryType": "Attest",
        "domain": domain.as_typed_data(),
        "message": {name: values[name] for name, _ in fields},
    }
