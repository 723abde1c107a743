"""did:web resolution: DID → document URL, a cached safe fetch, and verification-method look-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

from omareview._cache import ExpiringCache
from omareview._json import JsonObject
from omareview.errors import InputError
from omareview.identity.dids import normalize_did
from omareview.identity.fetch import FetchError, FetchRefusedError, SafeFetcher
from omareview.identity.keys import PublicKey, jwk_to_public_key, key_from_multibase
from omareview.identity.verdict import ANSWER_TTL_S, FAILURE_TTL_S

__all__ = [
    "CACHE_TTL_S",
    "FAILURE_TTL_S",
    "RELATIONSHIP_ORDER",
    "DidWebResolver",
    "did_web_url",
    "find_verification_method",
    "method_public_key",
    "verification_methods",
]

CACHE_TTL_S = ANSWER_TTL_S
RELATIONSHIP_ORDER = ("assertionMethod", "authentication")


def did_web_url(did: str) -> str:
    """The HTTPS URL of a did:web DID's document (W3C did:web: `:` separates path segments, `%3A` a port)."""
    bare = did.strip().split("#", 1)[0]
    if not bare.lower().startswith("did:web:"):
        raise InputError(f"{did!r} is not a did:web DID", reason="bad-did-document")
    segments = [unquote(segment) for segment in bare[len("did:web:") :].split(":")]
    if not segments[0] or any(not s or "/" in s for s in segments[1:]):
        raise InputError(f"{did!r} is not a valid did:web DID", reason="bad-did-document")
    host = segments[0].lower()
    path = "/".join(segments[1:]) if len(segments) > 1 else ".well-known"
    return f"https://{host}/{path}/did.json"


@dataclass
class DidWebResolver:
    """Resolves did:web documents through a SafeFetcher, caching answers (and, briefly, failures)."""

    fetcher: SafeFetcher = field(default_factory=SafeFetcher)
    ttl_s: float = CACHE_TTL_S
    failure_ttl_s: float = FAILURE_TTL_S
    _cache: ExpiringCache[str, JsonObject | FetchError] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._cache = ExpiringCache(ttl_s=self.ttl_s)

    def resolve(self, did: str) -> JsonObject:
        """The DID document; raises FetchError when it cannot be had or its `id` is not the DID."""
        bare = did.strip().split("#", 1)[0]
        cached = self._cache.get(bare)
        if isinstance(cached, FetchError):
            raise cached
        if cached is not None:
            return cached
        try:
            document = self._fetch(bare)
        except FetchError as exc:
            self._cache.put(bare, exc, self.failure_ttl_s)
            raise
        self._cache.put(bare, document)
        return document

    def _fetch(self, did: str) -> JsonObject:
        document = self.fetcher.get_json(did_web_url(did))
        if not isinstance(document, dict):
            raise FetchRefusedError(f"the DID document of {did} is not a JSON object", reason="bad-did-document")
        doc_id = document.get("id")
        if not isinstance(doc_id, str) or normalize_did(doc_id) != normalize_did(did):
            raise FetchRefusedError(f"the DID document served for {did} has id {doc_id!r}", reason="bad-did-document")
        return document


def verification_methods(document: JsonObject) -> list[JsonObject]:
    """Every verification method of a document: listed ones and those embedded in relationships."""
    methods = [m for m in document.get("verificationMethod") or [] if isinstance(m, dict)]
    for relationship in RELATIONSHIP_ORDER:
        methods += [m for m in document.get(relationship) or [] if isinstance(m, dict)]
    return methods


def _absolute(method_id: str, did: str) -> str:
    return did + method_id if method_id.startswith("#") else method_id


def find_verification_method(document: JsonObject, did_url: str) -> JsonObject:
    """The method a DID URL names (`did#key-1`, absolute or relative ids in the document); without a
    fragment, the first `assertionMethod`, then `authentication`, then the first method listed."""
    did, _, fragment = did_url.strip().partition("#")
    methods = verification_methods(document)
    if fragment:
        wanted = f"{did}#{fragment}"
        for method in methods:
            if _absolute(str(method.get("id", "")), did) == wanted:
                return method
        raise InputError(f"the DID document of {did} has no verification method #{fragment}", reason="bad-did-document")
    by_id = {_absolute(str(m.get("id", "")), did): m for m in methods}
    for relationship in RELATIONSHIP_ORDER:
        for entry in document.get(relationship) or []:
            if isinstance(entry, dict):
                return entry
            if isinstance(entry, str) and _absolute(entry, did) in by_id:
                return by_id[_absolute(entry, did)]
    if methods:
        return methods[0]
    raise InputError(f"the DID document of {did} lists no verification method", reason="bad-did-document")


def method_public_key(method: JsonObject) -> PublicKey | None:
    """The key of a verification method given as `publicKeyJwk` or `publicKeyMultibase`; None for others."""
    if "publicKeyJwk" in method:
        return jwk_to_public_key(method["publicKeyJwk"])
    if isinstance(method.get("publicKeyMultibase"), str):
        return key_from_multibase(method["publicKeyMultibase"])
    return None
