"""Subject DIDs and DID addresses, normalized exactly as OMATrust does so hashes and recipients match.

OMATrust's rules (SDK `normalizeDid`, identity spec §5.3): strip the `#fragment`; `did:web` → trim, lowercase
the host part, strip one trailing `.` and one leading `www.`, keep any `/path`; `did:pkh` → namespace and
address lowercased; `did:handle` → platform lowercased; `did:key` and `did:jwk` as given (did:jwk is
validated); a bare domain becomes `did:web`. A URL's subject is `did:web:<host>`: port, path, query and
fragment dropped, the host IDNA-encoded. Two deliberate additions to the SDK: the `did:` scheme and method
are matched case-insensitively and written lowercase, and Unicode hosts are punycoded inside DIDs too.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import urlsplit

from omareview._hashing import keccak
from omareview._json import loads_untrusted
from omareview.errors import InputError
from omareview.identity._b64 import b64url_decode

__all__ = [
    "did_address",
    "did_hash",
    "normalize_did",
    "normalize_domain",
    "subject_did",
    "subject_did_from_url",
    "validate_did_jwk",
    "web_domain",
]

_DID_PATTERN = re.compile(r"^did:([a-z0-9]+):(.+)$", re.IGNORECASE)
_HOST_CHARS = re.compile(r"[a-z0-9._~:%-]+")
_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_ORIGIN_END = re.compile(r"[/?#]")
_JWK_PUBLIC_MEMBERS = {"EC": ("crv", "x", "y"), "OKP": ("crv", "x"), "RSA": ("n", "e")}


def _ascii_host(host: str, original: str) -> str:
    host = host.strip().lower()
    if not host:
        raise InputError(f"{original!r} has no host", reason="bad-did")
    if host.isascii():
        return host
    import idna  # only an internationalized name needs its tables

    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InputError(
            f"{original!r}: host {host!r} is not a valid internationalized domain name ({exc})", reason="bad-did"
        ) from exc


def normalize_domain(domain: str) -> str:
    """Lowercase and punycode a host, then strip one trailing `.` and every leading `www.`."""
    host = _ascii_host(domain, domain)
    if not _HOST_CHARS.fullmatch(host) or ".." in host or host.startswith("."):
        raise InputError(f"{domain!r} is not a valid host name", reason="bad-did")
    host = host.removesuffix(".")
    if len(host) > 253 or any(len(label) > 63 for label in host.split(".")):
        raise InputError(
            f"{domain!r} is not a valid host name (a label over 63 or a name over 253 characters)", reason="bad-did"
        )
    # OMATrust strips a leading `www.` (identity §5.3.2). Each one is stripped here: stripping only one is not
    # idempotent (`www.www.example.com` would give did:web:www.example.com, whose own normal form, and so its
    # DID hash, is example.com's), and a normal form must be one.
    while host.startswith("www.") and "." in host[4:]:
        host = host[4:]
    return host


def _host_from_url(url: str) -> str:
    candidate = url.strip()
    bare = not _URL_SCHEME.match(candidate)
    if bare:
        candidate = "https://" + candidate
    if "\\" in candidate:
        # URL parsers disagree on a backslash (WHATWG reads it as `/`): a review is irrevocable, so refuse.
        raise InputError(f"{url!r} holds a backslash, which URL parsers read differently", reason="bad-did")
    try:
        parts = urlsplit(candidate)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise InputError(f"{url!r} is not a valid URL ({exc})", reason="bad-did") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise InputError(f"{url!r}: only http and https URLs name a service", reason="bad-did")
    if bare and "@" in parts.netloc:
        raise InputError(
            f"{url!r} carries user information (an e-mail address is not a service's address)", reason="bad-did"
        )
    host = parts.hostname
    if not host:
        raise InputError(f"{url!r} has no host", reason="bad-did")
    if "%" in host:
        raise InputError(f"{url!r} has a percent-encoded host", reason="bad-did")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if ip.version == 6:
        raise InputError(f"{url!r}: an IPv6 host cannot be written as a did:web identifier", reason="bad-did")
    return host


def subject_did_from_url(url: str) -> str:
    """`did:web:<host>` of a resource URL (IPv4 hosts are allowed and kept as they are). Only the URL's
    origin decides it, so that is what is parsed (and cached: a batch of receipts names the same few
    services, each at many paths)."""
    candidate = url.strip()
    start = candidate.find("://") + 3 if _URL_SCHEME.match(candidate) else 0
    end = _ORIGIN_END.search(candidate, start)
    cut = end.start() if end is not None else len(candidate)
    if "\\" in candidate[cut:]:
        raise InputError(f"{url!r} holds a backslash, which URL parsers read differently", reason="bad-did")
    return _subject_of_origin(candidate[:cut])


@lru_cache(maxsize=4096)
def _subject_of_origin(origin: str) -> str:
    return "did:web:" + normalize_domain(_host_from_url(origin))


def _normalize_web(identifier: str, original: str) -> str:
    host, sep, path = identifier.partition("/")
    if not host:
        raise InputError(f"{original!r} is not a valid did:web DID: no host", reason="bad-did")
    return "did:web:" + normalize_domain(host) + sep + path


def _normalize_pkh(identifier: str, original: str) -> str:
    parts = identifier.split(":")
    if len(parts) != 3 or not all(parts):
        raise InputError(
            f"{original!r} is not a valid did:pkh DID (did:pkh:<namespace>:<chain>:<address>)", reason="bad-did"
        )
    namespace, chain, address = parts
    if namespace.lower() == "eip155" and not re.fullmatch(r"0x[0-9a-fA-F]{40}", address):
        raise InputError(f"{original!r}: an eip155 account is 0x and 40 hex digits", reason="bad-did")
    # EVM addresses are hex, and OMATrust lowercases them; other namespaces' addresses (Solana's base58)
    # are case-sensitive and kept as written.
    account = address.lower() if namespace.lower() == "eip155" else address
    return f"did:pkh:{namespace.lower()}:{chain}:{account}"


def _normalize_handle(identifier: str, original: str) -> str:
    parts = identifier.split(":")
    if len(parts) != 2 or not all(parts):
        raise InputError(f"{original!r} is not a valid did:handle DID (did:handle:<platform>:<user>)", reason="bad-did")
    return f"did:handle:{parts[0].lower()}:{parts[1]}"


def validate_did_jwk(identifier: str, original: str) -> dict[str, object]:
    """The public JWK a did:jwk identifier encodes; refuses private keys and incomplete keys."""
    if ":" in identifier or not re.fullmatch(r"[A-Za-z0-9_-]+", identifier):
        raise InputError(
            f"{original!r} is not a valid did:jwk DID: the identifier must be one base64url string", reason="bad-did"
        )
    try:
        jwk = loads_untrusted(b64url_decode(identifier), what="the did:jwk identifier")
    except (ValueError, InputError) as exc:
        raise InputError(
            f"{original!r} is not a valid did:jwk DID: the identifier is not base64url JSON", reason="bad-did"
        ) from exc
    if not isinstance(jwk, dict):
        raise InputError(f"{original!r} is not a valid did:jwk DID: the JWK must be a JSON object", reason="bad-did")
    members = _JWK_PUBLIC_MEMBERS.get(str(jwk.get("kty")))
    if members is None:
        raise InputError(f"{original!r} is not a valid did:jwk DID: kty must be EC, OKP or RSA", reason="bad-did")
    if "d" in jwk:
        raise InputError(f"{original!r} holds a private key; a DID must name a public key only", reason="bad-did")
    missing = [m for m in members if not isinstance(jwk.get(m), str) or not jwk[m]]
    if missing:
        raise InputError(
            f"{original!r} is not a valid did:jwk DID: its JWK lacks {', '.join(missing)}", reason="bad-did"
        )
    return jwk


def normalize_did(value: str) -> str:
    """The canonical form of a DID, or of a bare domain (which becomes did:web)."""
    text = value.strip().split("#", 1)[0]
    if not text:
        raise InputError("an empty string is not a DID or URL", reason="bad-did")
    if not text.lower().startswith("did:"):
        return subject_did_from_url(text) if _URL_SCHEME.match(text) else _normalize_web(text, value)
    match = _DID_PATTERN.match(text)
    if match is None:
        raise InputError(f"{value!r} is not a DID: expected did:<method>:<identifier>", reason="bad-did")
    method, identifier = match.group(1).lower(), match.group(2)
    if method == "web":
        return _normalize_web(identifier, value)
    if method == "pkh":
        return _normalize_pkh(identifier, value)
    if method == "handle":
        return _normalize_handle(identifier, value)
    if method == "jwk":
        validate_did_jwk(identifier, value)
    return f"did:{method}:{identifier}"


def subject_did(url_or_did: str) -> str:
    """The subject DID for a DID, a URL, or a bare domain (a URL's path, port and query are dropped)."""
    text = url_or_did.strip()
    if not text:
        raise InputError("an empty string is not a DID or URL", reason="bad-did")
    if text.lower().startswith("did:"):
        return normalize_did(text)
    return subject_did_from_url(text)


def did_hash(did: str) -> str:
    """`keccak256(utf8(normalized DID))` as 0x-hex."""
    return "0x" + keccak(normalize_did(did).encode("utf-8")).hex()


def did_address(did: str) -> str:
    """The DID address: the last 20 bytes of the DID hash, lowercase 0x-hex. It is the EAS `recipient`."""
    return "0x" + did_hash(did)[-40:]


@lru_cache(maxsize=4096)
def web_domain(did: str) -> str | None:
    """The host of a did:web DID (without port or path), else None. Cached: one per verified artifact."""
    normalized = normalize_did(did)
    if not normalized.startswith("did:web:"):
        return None
    host = normalized.removeprefix("did:web:").split("/", 1)[0].split(":", 1)[0]
    return host.split("%3a", 1)[0]
