"""OMATrust's identity graph as read from EAS: Key Bindings, Controller Witnesses, Linked Identifiers and
User Review Responses, and the trusted witness issuers that make a witness count.

Anyone can write any attestation to EAS, so nothing here is believed for being on-chain: a witness counts
only when its attester is an approved issuer (`WitnessIssuers`, from OMATrust's trust-anchors document); a
Linked Identifier only when both sides signed a proof of shared control (`omareview.identity.pop`); a Key
Binding only when its attester controlled the subject (see `omareview.identity.authorization`).

The graph itself is a protocol: the index implements it over its store, tests over a list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from omareview._hashing import is_address
from omareview._json import load_untrusted_file, loads_untrusted
from omareview.errors import ConfigError, InputError
from omareview.identity.dids import normalize_did
from omareview.schemas import get_schema

__all__ = [
    "IDENTITY_KINDS",
    "ApprovedIssuer",
    "IdentityAttestation",
    "IdentityGraph",
    "IdentityKind",
    "ListGraph",
    "WitnessIssuers",
    "load_witness_issuers",
]

IdentityKind = Literal["key-binding", "linked-identifier", "controller-witness", "user-review-response"]
IDENTITY_KINDS: tuple[IdentityKind, ...] = (
    "key-binding",
    "linked-identifier",
    "controller-witness",
    "user-review-response",
)
_MAX_ANCHORS_BYTES = 1024 * 1024


@dataclass(frozen=True)
class IdentityAttestation:
    """One identity attestation as indexed.

    Attributes:
        uid: its UID.
        kind: which OMATrust schema it is under.
        attester: who wrote it (lowercase address).
        time: its EAS time.
        revocation_time: when it was revoked (0: never).
        fields: its decoded data (`subject`, `keyId`, `keyPurpose`, `proofs`, `effectiveAt`, ...).
    """

    uid: str
    kind: str
    attester: str
    time: int
    revocation_time: int = 0
    fields: Mapping[str, object] = field(default_factory=dict)

    def text(self, name: str) -> str:
        value = self.fields.get(name)
        return value if isinstance(value, str) else ""

    def number(self, name: str) -> int:
        value = self.fields.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    def texts(self, name: str) -> list[str]:
        value = self.fields.get(name)
        return [item for item in value if isinstance(item, str)] if isinstance(value, list | tuple) else []

    @property
    def starts(self) -> int:
        """When it takes effect: the claimed start (`effectiveAt`, else `issuedAt`), but never before its own
        EAS time. Its attester's standing is only proven at that time, so a start it claims earlier would
        let a new controller back-date a binding over receipts issued in the previous owner's era."""
        return max(self.number("effectiveAt") or self.number("issuedAt"), self.time)

    @property
    def ends(self) -> int | None:
        """When it stops holding: the earlier of `expiresAt` and its revocation (None: never)."""
        ends = [t for t in (self.number("expiresAt"), self.revocation_time) if t]
        return min(ends) if ends else None

    def holds_at(self, at: int) -> bool:
        ends = self.ends
        return self.starts <= at and (ends is None or at < ends)

    def is_about(self, did: str) -> bool:
        try:
            return normalize_did(self.text("subject")) == normalize_did(did)
        except InputError:
            return False


class IdentityGraph(Protocol):
    """Where identity attestations are looked up (the index's store, or a list in tests)."""

    def about(self, subject: str, kind: IdentityKind) -> Sequence[IdentityAttestation]:
        """The attestations of `kind` sent to `subject`'s DID address (its EAS recipient)."""
        ...

    def by(self, attester: str, kind: IdentityKind) -> Sequence[IdentityAttestation]:
        """The attestations of `kind` written by `attester`."""
        ...


@dataclass
class ListGraph:
    """An identity graph over a list of attestations.

    Parameters:
        attestations: every attestation the graph holds.
    """

    attestations: list[IdentityAttestation] = field(default_factory=list)

    def about(self, subject: str, kind: IdentityKind) -> Sequence[IdentityAttestation]:
        return [a for a in self.attestations if a.kind == kind and a.is_about(subject)]

    def by(self, attester: str, kind: IdentityKind) -> Sequence[IdentityAttestation]:
        return [a for a in self.attestations if a.kind == kind and a.attester == attester.lower()]


def _timestamp(value: object) -> int | None:
    """A time from the trust anchors: Unix seconds, or an ISO 8601 date-time."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    except ValueError:
        raise ValueError(f"{value!r} is neither Unix seconds nor an ISO 8601 time") from None


class ApprovedIssuer(BaseModel):
    """One entry of OMATrust's approved-issuers registry.

    Attributes:
        address: the issuer's wallet.
        label: a name for people.
        schemas: the schemas it may issue (names or UIDs; empty: any).
        status: `active` or not.
        valid_from: from when it is approved (None: always).
        revoked_at: from when it is no longer approved (None: never).
    """

    model_config = ConfigDict(defer_build=True, populate_by_name=True, frozen=True)

    address: str
    label: str = ""
    schemas: list[str] = Field(default_factory=list)
    status: str = "active"
    valid_from: Any = Field(default=None, alias="validFrom")
    revoked_at: Any = Field(default=None, alias="revokedAt")


class WitnessIssuers:
    """The witness issuers a policy trusts, from a trust-anchors document.

    Parameters:
        issuers: the approved issuers.
        source: where they were read from, for messages.
    """

    def __init__(self, issuers: Sequence[ApprovedIssuer], source: str = "") -> None:
        self.source = source
        self._issuers: dict[str, list[tuple[int | None, int | None]]] = {}
        for issuer in issuers:
            names = {s.lower() for s in issuer.schemas}
            if issuer.status != "active" or not is_address(issuer.address):
                continue
            if names and not names & {"controller-witness", "controllerwitness", get_schema("controller-witness").uid}:
                continue
            window = (_timestamp(issuer.valid_from), _timestamp(issuer.revoked_at))
            self._issuers.setdefault(issuer.address.lower(), []).append(window)

    def __len__(self) -> int:
        return len(self._issuers)

    def trusts(self, address: str, at: int) -> bool:
        """Whether `address` was an approved witness issuer at time `at`."""
        return any(
            (start is None or start <= at) and (end is None or at < end)
            for start, end in self._issuers.get(address.lower(), [])
        )

    @classmethod
    def from_document(cls, document: object, source: str = "") -> WitnessIssuers:
        """From a trust-anchors document (`registries[type=approved-issuers].issuers`)."""
        if not isinstance(document, dict):
            raise ConfigError(f"the trust anchors {source} are not a JSON object", reason="bad-trust-anchors")
        registries = document.get("registries")
        entries: list[ApprovedIssuer] = []
        try:
            for registry in registries if isinstance(registries, list) else []:
                if isinstance(registry, dict) and registry.get("type") == "approved-issuers":
                    for item in registry.get("issuers") or []:
                        issuer = ApprovedIssuer.model_validate(item)
                        _timestamp(issuer.valid_from)
                        _timestamp(issuer.revoked_at)
                        entries.append(issuer)
        except (ValidationError, ValueError) as exc:
            raise ConfigError(
                f"the trust anchors {source} have a malformed approved issuer: {exc}".replace("\n", " "),
                reason="bad-trust-anchors",
            ) from None
        return cls(entries, source)


Fetch = Callable[[str], tuple[int, dict[str, str], bytes]]


def load_witness_issuers(source: str, fetch: Fetch | None = None) -> WitnessIssuers:
    """The approved witness issuers of a trust-anchors document at a path or an HTTPS URL (fetched with
    `fetch`, a `SafeFetcher`-like callable returning (status, headers, body); None: the default guard)."""
    what = f"at {source}"
    text: bytes | None = None
    if source.startswith(("https://", "http://")):
        from omareview.identity.fetch import FetchError, SafeFetcher

        if fetch is None:
            fetch = SafeFetcher().fetch
        try:
            status, _, body = fetch(source)
        except (InputError, FetchError) as exc:
            raise ConfigError(f"cannot fetch the trust anchors {what}: {exc}", reason="bad-trust-anchors") from None
        if status != 200:
            raise ConfigError(f"the trust anchors {what} answered HTTP {status}", reason="bad-trust-anchors")
        text = body
    try:
        if text is None:
            document = load_untrusted_file(Path(source), _MAX_ANCHORS_BYTES, f"the trust anchors {what}")
        else:
            document = loads_untrusted(text, what=f"the trust anchors {what}")
    except InputError as exc:
        raise ConfigError(str(exc), reason="bad-trust-anchors") from None
    return WitnessIssuers.from_document(document, what)
