"""Is this signer authorized to speak for this domain, as of a time? (SPEC §2 step 3)

With an identity graph and a time (a receipt's `issuedAt`), OMATrust's on-chain sources come first:
- a **Key Binding** of the signer's key for the subject, effective at that time, not expired or revoked by
  then, with `keyPurpose` covering `assertionMethod` or `authentication`. It counts only when its attester
  was the subject's controller at the binding's time (by a trusted witness, or the live did.json / TXT) and
  the key itself signed a proof of shared control naming the subject. A counted binding that was revoked or
  had expired by then, or whose purpose does not cover signing, *closes* authorization for that key from
  then on, whatever did.json still says;
- a **Controller Witness** by a trusted witness issuer whose latest observation of the subject (per method)
  at or before that time names the signer as controller.
Then the live sources, strongest first: the domain's did:web document lists it (`blockchainAccountId`, `publicKeyJwk`,
`publicKeyMultibase`, `ethereumAddress`); its `_controllers` TXT record names it (`did:pkh`, `did:jwk`,
`did:key`); failing those, it is the `payTo` of a signed offer for the same host (the weakest: anyone can
sign an offer that pays themselves). An EVM address also matches a secp256k1 key whose address it is.
A source that cannot be read (network down, no document, no record) says nothing; the answer is `unknown`
unless another source decides. Never raises for network failures.

OMATrust's SDK (`getControllerAuthorization`) reads the same attestations more loosely; the differences are
listed in docs/guides/identity.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import dns.exception

from omareview._hashing import is_address, to_checksum_address
from omareview.errors import InputError
from omareview.identity.dids import normalize_did, normalize_domain
from omareview.identity.didweb import DidWebResolver, method_public_key, verification_methods
from omareview.identity.dns_txt import lookup_controllers
from omareview.identity.fetch import FetchError
from omareview.identity.graph import IdentityAttestation, IdentityGraph, WitnessIssuers
from omareview.identity.keys import (
    PublicKey,
    address_from_did_pkh,
    did_jwk_from_key,
    evm_address_of_key,
    jwk_to_public_key,
    key_from_did,
    keys_equal,
)
from omareview.identity.pop import read_pop
from omareview.identity.verdict import (
    FAILURE_TTL_S,
    Authorization,
    AuthorizationCache,
    AuthorizationMethod,
    SignerIdentity,
)

__all__ = ["authorize_signer", "default_resolver"]

_SIGNING_PURPOSES = ("assertionMethod", "authentication")


@dataclass(frozen=True)
class _SignerIdentity:
    address: str | None
    key: PublicKey | None

    @property
    def cache_key(self) -> str:
        return self.address or (did_jwk_from_key(self.key) if self.key is not None else "")

    def matches_address(self, address: str) -> bool:
        return self.address is not None and is_address(address) and self.address == to_checksum_address(address)

    def matches_key(self, key: PublicKey) -> bool:
        if self.key is not None and keys_equal(self.key, key):
            return True
        return self.address is not None and self.address == evm_address_of_key(key)


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


@dataclass(frozen=True)
class _Live:
    """The live sources (did.json, TXT), each answer kept in `cache` for the run."""

    host: str
    resolver: DidWebResolver | None
    use_did_json: bool
    use_dns: bool
    dns_server: str | None
    dns_timeout_s: float
    cache: AuthorizationCache | None

    def __call__(self, identity: _SignerIdentity, pay_to: str | None) -> Authorization:
        key = (identity.cache_key, self.host, pay_to)
        found = self.cache.get(key) if self.cache is not None else None
        if found is None:
            found = self._decide(identity, pay_to)
            if self.cache is not None:
                # Kept as long as a DID document is; an answer that settled nothing, only as long as a failure.
                self.cache.put(key, found, None if found.status != "unknown" else FAILURE_TTL_S)
        return found

    def _decide(self, identity: _SignerIdentity, pay_to: str | None) -> Authorization:
        checks: list[tuple[AuthorizationMethod, tuple[bool | None, str]]] = []
        if self.use_did_json:
            checks.append(("did-json", _check_did_json(self.host, identity, self.resolver or default_resolver())))
            if checks[-1][1][0]:
                return Authorization(status="authorized", method="did-json", detail=checks[-1][1][1])
        if self.use_dns:
            checks.append(("dns-txt", _check_dns(self.host, identity, self.dns_server, self.dns_timeout_s)))
            if checks[-1][1][0]:
                return Authorization(status="authorized", method="dns-txt", detail=checks[-1][1][1])
        if pay_to is not None and identity.matches_address(pay_to):
            return Authorization(
                status="authorized", method="pay-to", detail=f"the signer is the offer's payTo {pay_to}"
            )
        detail = "; ".join(outcome[1] for _, outcome in checks) or "no authorization source was consulted"
        refused = [method for method, outcome in checks if outcome[0] is False]
        if refused:
            return Authorization(status="unauthorized", method=refused[0], detail=detail)
        return Authorization(status="unknown", detail=detail)


@dataclass(frozen=True)
class _OnChain:
    """The on-chain sources for one subject: its key bindings and witnesses in `graph`."""

    subject: str
    graph: IdentityGraph
    witnesses: WitnessIssuers | None
    live: _Live

    @cached_property
    def _observations(self) -> list[IdentityAttestation]:
        """The subject's Controller Witnesses by trusted issuers (observed no later than attested), read
        once: every key binding's attester is checked against them too."""
        if self.witnesses is None:
            return []
        witnesses = self.witnesses
        return [
            witness
            for witness in self.graph.about(self.subject, "controller-witness")
            if witnesses.trusts(witness.attester, witness.time)
            and witness.is_about(self.subject)
            and witness.number("observedAt") <= witness.time
        ]

    def witnessed(self, identity: _SignerIdentity, at: int) -> Authorization | None:
        """Authorized when a trusted issuer's latest observation of the subject (per method) attested at or
        before `at` names the signer; None when no such witness does. A witness counts from its own EAS
        time, never from the earlier `observedAt` it claims."""
        counted = [w for w in self._observations if w.time <= at]
        latest: dict[str, int] = {}
        for witness in counted:
            method = witness.text("method")
            latest[method] = max(latest.get(method, 0), witness.number("observedAt"))
        for witness in sorted(counted, key=lambda w: w.number("observedAt"), reverse=True):
            if witness.number("observedAt") != latest[witness.text("method")]:
                continue
            if _controller_matches(witness.text("controller"), identity):
                return Authorization(
                    status="authorized",
                    method="witness",
                    uid=witness.uid,
                    valid_from=witness.time,
                    detail=(
                        f"a trusted witness ({witness.attester}) observed it as controller of {self.subject} by "
                        f"{witness.text('method') or 'an unnamed method'} at {witness.number('observedAt')}"
                    ),
                )
        return None

    def controlled_by(self, address: str, at: int) -> bool:
        """Whether the EVM `address` was the subject's controller at `at` (trusted witness, or live)."""
        identity = _SignerIdentity(to_checksum_address(address), None)
        if self.witnessed(identity, at) is not None:
            return True
        return self.live(identity, None).status == "authorized"

    def key_bound(self, identity: _SignerIdentity, at: int) -> Authorization | None:
        """The verdict of the counted key bindings of the signer's key, or None when none speaks to `at`."""
        counted = []
        for binding in self.graph.about(self.subject, "key-binding"):
            bound = _binding_key(binding)
            if (
                bound is not None
                and binding.is_about(self.subject)
                and _names(bound, identity)
                and self.controlled_by(binding.attester, binding.time)
                and _proved(binding, bound, self.subject)
            ):
                counted.append(binding)
        started = sorted((b for b in counted if b.starts <= at), key=lambda b: b.starts, reverse=True)
        for binding in started:
            purposes = binding.texts("keyPurpose")
            if binding.holds_at(at) and any(p in purposes for p in _SIGNING_PURPOSES):
                return Authorization(
                    status="authorized",
                    method="key-binding",
                    uid=binding.uid,
                    valid_from=binding.starts,
                    valid_until=binding.ends,
                    detail=f"its key is bound to {self.subject} by Key Binding {binding.uid} (purposes "
                    f"{', '.join(purposes)}), attested by the subject's controller {binding.attester}",
                )
        for binding in started:
            ends = binding.ends
            if ends is not None and ends <= at:
                how = (
                    f"revoked at {binding.revocation_time}" if binding.revocation_time == ends else f"expired at {ends}"
                )
                return Authorization(
                    status="unauthorized",
                    method="key-binding",
                    uid=binding.uid,
                    valid_from=binding.starts,
                    valid_until=ends,
                    detail=f"the Key Binding {binding.uid} of its key for {self.subject} was {how}, before {at}",
                )
            purposes = binding.texts("keyPurpose")
            return Authorization(
                status="unauthorized",
                method="key-binding",
                uid=binding.uid,
                valid_from=binding.starts,
                detail=f"the Key Binding {binding.uid} of its key for {self.subject} covers "
                f"{', '.join(purposes) or 'no purpose'}, not assertionMethod or authentication",
            )
        return None


def _binding_key(binding: IdentityAttestation) -> _SignerIdentity | None:
    """The key a Key Binding binds: its `publicKeyJwk`, else the key or address its `keyId` names."""
    text = binding.text("publicKeyJwk")
    try:
        if text:
            key = jwk_to_public_key(json.loads(text))
            return _SignerIdentity(evm_address_of_key(key), key)
        return _identity(binding.text("keyId").split("#")[0])
    except (InputError, ValueError):
        return None


def _names(bound: _SignerIdentity, identity: _SignerIdentity) -> bool:
    """The bound key (or address) is the signer's."""
    if bound.key is not None:
        return identity.matches_key(bound.key)
    return bound.address is not None and identity.matches_address(bound.address)


def _proved(binding: IdentityAttestation, bound: _SignerIdentity, subject: str) -> bool:
    """A proof in the binding, made before it was written, that ties the key to the subject, either way:
    the spec's form (reputation spec §6.2.3, as OMATrust's tools write it), the subject's side authorizing
    the key: a proof naming the `keyId` signed by the binding's attester (checked elsewhere to have been
    the subject's controller then); or the key's own proof of possession naming the subject."""
    key_id = binding.text("keyId")
    for text in binding.texts("proofs"):
        try:
            proof = read_pop(text, expected_signer=binding.attester)
            audience = normalize_did(proof.audience)
        except InputError:
            continue
        if not proof.holds_at(binding.time):
            continue
        by_subject_side = proof.address is not None and proof.address.lower() == binding.attester.lower()
        if by_subject_side and key_id and audience == _normalized(key_id):
            return True
        if audience == subject and _names(bound, _SignerIdentity(proof.address, proof.key)):
            return True
    return False


def _normalized(did: str) -> str | None:
    try:
        return normalize_did(did)
    except InputError:
        return None


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
    at: int | None = None,
    graph: IdentityGraph | None = None,
    witnesses: WitnessIssuers | None = None,
    cache: AuthorizationCache | None = None,
) -> Authorization:
    """Decide whether `signer` (an EVM address, a DID, a key or a JWK) may sign for `domain` at time `at`.

    With `graph` and `at`, key bindings and trusted witnesses (`witnesses`) are consulted first; the live
    answers are kept in `cache` (failures included, for less long) so each domain is asked once per signer
    while its answer is fresh."""
    identity = _identity(signer)
    host = normalize_domain(domain)
    live = _Live(host, resolver, use_did_json, use_dns, dns_server, dns_timeout_s, cache)
    if graph is not None and at is not None:
        sources = _OnChain(f"did:web:{host}", graph, witnesses, live)
        decided = sources.key_bound(identity, at) or sources.witnessed(identity, at)
        if decided is not None:
            return decided
    return live(identity, pay_to)


_DEFAULT_RESOLVER: DidWebResolver | None = None


def default_resolver() -> DidWebResolver:
    """The process-wide did:web resolver (and its cache), built from the environment on first use."""
    global _DEFAULT_RESOLVER
    if _DEFAULT_RESOLVER is None:
        _DEFAULT_RESOLVER = DidWebResolver()
    return _DEFAULT_RESOLVER
