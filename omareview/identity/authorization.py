"""Is this signer authorized to speak for this domain? (SPEC §2 step 3)

Sources, strongest first: the domain's did:web document lists it (`blockchainAccountId`, `publicKeyJwk`,
`publicKeyMultibase`, `ethereumAddress`); its `_controllers` TXT record names it (`did:pkh`, `did:jwk`,
`did:key`); failing those, it is the `payTo` of a signed offer for the same host (the weakest: anyone can
sign an offer that pays themselves). An EVM address also matches a secp256k1 key whose address it is.
A source that cannot be read (network down, no document, no record) says nothing; the answer is `unknown`
unless another source decides. Never raises for network failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import dns.exception
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict

from omareview._hashing import address_of_point, is_address, to_checksum_address
from omareview.errors import InputError
from omareview.identity.dids import normalize_domain
from omareview.identity.didweb import DidWebResolver, method_public_key, verification_methods
from omareview.identity.dns_txt import lookup_controllers
from omareview.identity.fetch import FetchError
from omareview.identity.keys import PublicKey, address_from_did_pkh, jwk_to_public_key, key_from_did, keys_equal

__all__ = [
    "Authorization",
    "AuthorizationMethod",
    "AuthorizationStatus",
    "SignerIdentity",
    "authorize_signer",
    "default_resolver",
    "evm_address_of_key",
]

AuthorizationStatus = Literal["authorized", "unauthorized", "unknown"]
AuthorizationMethod = Literal["did-json", "dns-txt", "pay-to"]
SignerIdentity = str | PublicKey | dict[str, Any]


class Authorization(BaseModel):
    """Whether a signer is authorized for a subject, and by which source.

    Attributes:
        status: `authorized`, `unauthorized` (a source names other signers) or `unknown` (no source answered).
        method: the source that decided: `did-json`, `dns-txt` or `pay-to`; None when nothing decided.
        detail: what was found, for a person.
    """

    model_config = ConfigDict(frozen=True)

    status: AuthorizationStatus
    method: AuthorizationMethod | None = None
    detail: str


@dataclass(frozen=True)
class _SignerIdentity:
    address: str | None
    key: PublicKey | None

    def matches_address(self, address: str) -> bool:
        return self.address is not None and is_address(address) and self.address == to_checksum_address(address)

    def matches_key(self, key: PublicKey) -> bool:
        if self.key is not None and keys_equal(self.key, key):
            return True
        return self.address is not None and self.address == evm_address_of_key(key)


def evm_address_of_key(key: PublicKey) -> str | None:
    """The EVM address of a secp256k1 key; None for other curves."""
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256k1":
        return None
    point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return address_of_point(point)


def _identity(signer: SignerIdentity) -> _SignerIdentity:
    if isinstance(signer, dict):
        key = jwk_to_public_key(signer)
        return _SignerIdentity(evm_address_of_key(key), key)
    if isinstance(signer, str):
        if is_address(signer):
            return _SignerIdentity(to_checksum_address(signer), None)
        if signer.lower().startswith("did:pkh:"):
            return _SignerIdentity(address_from_did_pkh(signer), None)
        key = key_from_did(signer)
        return _SignerIdentity(evm_address_of_key(key), key)
    return _SignerIdentity(evm_address_of_key(signer), signer)


def _method_matches(method: dict[str, Any], signer: _SignerIdentity) -> bool:
    account = method.get("blockchainAccountId")
    if isinstance(account, str) and account.startswith("eip155:") and signer.matches_address(account.split(":")[-1]):
        return True
    address = method.get("ethereumAddress")
    if isinstance(address, str) and signer.matches_address(address):
        return True
    try:
        key = method_public_key(method)
    except InputError:
        return False
    return key is not None and signer.matches_key(key)


def _controller_matches(did: str, signer: _SignerIdentity) -> bool:
    try:
        if did.startswith("did:pkh:"):
            return signer.matches_address(address_from_did_pkh(did))
        return signer.matches_key(key_from_did(did))
    except InputError:
        return False


def _check_did_json(domain: str, signer: _SignerIdentity, resolver: DidWebResolver) -> tuple[bool | None, str]:
    did = f"did:web:{domain}"
    try:
        document = resolver.resolve(did)
    except FetchError as exc:
        return None, f"did.json: {exc}"
    for method in verification_methods(document):
        if _method_matches(method, signer):
            return True, f"listed in the DID document of {did} as {method.get('id', 'a verification method')}"
    return False, f"not listed in the DID document of {did}"


def _check_dns(domain: str, signer: _SignerIdentity, server: str | None, timeout_s: float) -> tuple[bool | None, str]:
    try:
        records = lookup_controllers(domain, timeout_s=timeout_s, server=server)
    except dns.exception.DNSException as exc:
        return None, f"dns-txt: _controllers.{domain} could not be read ({type(exc).__name__})"
    for controller in records.controllers:
        if _controller_matches(controller, signer):
            return True, f"named as controller {controller} in the TXT record of _controllers.{domain}"
    if records.controllers:
        return False, f"not among the controllers in the TXT record of _controllers.{domain}"
    if records.malformed:
        return None, f"dns-txt: the TXT record of _controllers.{domain} is malformed"
    return None, f"dns-txt: no controller record at _controllers.{domain}"


def authorize_signer(
    signer: SignerIdentity,
    domain: str,
    *,
    pay_to: str | None = None,
    resolver: DidWebResolver | None = None,
    use_did_json: bool = True,
    use_dns: bool = True,
    dns_server: str | None = None,
    dns_timeout_s: float = 3.0,
) -> Authorization:
    """Decide whether `signer` (an EVM address, a DID, a key or a JWK) may sign for `domain`."""
    identity = _identity(signer)
    host = normalize_domain(domain)
    checks: list[tuple[AuthorizationMethod, tuple[bool | None, str]]] = []
    if use_did_json:
        checks.append(("did-json", _check_did_json(host, identity, resolver or default_resolver())))
        if checks[-1][1][0]:
            return Authorization(status="authorized", method="did-json", detail=checks[-1][1][1])
    if use_dns:
        checks.append(("dns-txt", _check_dns(host, identity, dns_server, dns_timeout_s)))
        if checks[-1][1][0]:
            return Authorization(status="authorized", method="dns-txt", detail=checks[-1][1][1])
    if pay_to is not None and identity.matches_address(pay_to):
        return Authorization(status="authorized", method="pay-to", detail=f"the signer is the offer's payTo {pay_to}")
    detail = "; ".join(outcome[1] for _, outcome in checks) or "no authorization source was consulted"
    refused = [method for method, outcome in checks if outcome[0] is False]
    if refused:
        return Authorization(status="unauthorized", method=refused[0], detail=detail)
    return Authorization(status="unknown", detail=detail)


_DEFAULT_RESOLVER: DidWebResolver | None = None


def default_resolver() -> DidWebResolver:
    """The process-wide did:web resolver (and its cache), built from the environment on first use."""
    global _DEFAULT_RESOLVER
    if _DEFAULT_RESOLVER is None:
        _DEFAULT_RESOLVER = DidWebResolver()
    return _DEFAULT_RESOLVER
