"""Fetching documents named by untrusted input (did:web) without becoming an SSRF vector.

Rules (SPEC §6): HTTPS only; every address the host resolves to must be public (no private, loopback,
link-local, multicast, reserved or cloud-metadata ranges) and the connection goes to the address that was
checked, with TLS still verified against the host name; no redirect to another origin; a size cap, bounded
decompression, and one total time bound over connect, TLS, headers and body (a server that drips its
headers a byte at a time is cut off at the deadline, not after a timeout per byte). An override map
(host → base URL) points a host elsewhere for tests and local services; only an override may use plain
HTTP, and only to a loopback address.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import certifi
import httpcore
from dns.exception import DNSException

from omareview._http import DeadlineBackend, Inflater, mapped_errors
from omareview._json import UntrustedJsonError, loads_untrusted
from omareview.errors import FetchError, FetchFailedError, FetchRefusedError, InputError
from omareview.identity.dns_txt import DNS_SERVER_ENV, lookup_addresses

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_REDIRECTS",
    "OVERRIDES_ENV",
    "TOTAL_TIMEOUT_S",
    "FetchError",
    "FetchFailedError",
    "FetchRefusedError",
    "IPAddress",
    "SafeFetcher",
    "address_refusal",
    "overrides_from_env",
    "parse_overrides",
]

MAX_DOCUMENT_BYTES = 64 * 1024
TOTAL_TIMEOUT_S = 5.0
MAX_REDIRECTS = 3
OVERRIDES_ENV = "OMAREVIEW_DID_WEB_OVERRIDES"

_METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("169.254.170.2"),
    ipaddress.ip_address("100.100.100.200"),
    ipaddress.ip_address("fd00:ec2::254"),
}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IETF_PROTOCOL_ASSIGNMENTS = ipaddress.ip_network("192.0.0.0/24")


def parse_overrides(text: str) -> dict[str, str]:
    """`host=base-url,host=base-url` → mapping, hosts lowercased."""
    overrides: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        host, sep, base = item.partition("=")
        if not sep or not host.strip() or not base.strip():
            raise InputError(f"{OVERRIDES_ENV}: {item!r} is not host=base-url")
        overrides[host.strip().lower()] = base.strip().rstrip("/")
    return overrides


def overrides_from_env() -> dict[str, str]:
    return parse_overrides(os.environ.get(OVERRIDES_ENV, ""))


def address_refusal(ip: IPAddress, allow_loopback: bool) -> str | None:
    """Why a connection to `ip` is refused, or None when it is allowed. IPv6 forms that carry an IPv4
    address (mapped, 6to4, NAT64) are judged by the address they carry."""
    if isinstance(ip, ipaddress.IPv6Address):
        carried = ip.ipv4_mapped or ip.sixtofour
        if ip in _NAT64:
            carried = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if carried is not None:
            return address_refusal(carried, allow_loopback)
        if ip.is_site_local:
            return "a site-local address"
    if ip in _IETF_PROTOCOL_ASSIGNMENTS:
        return "an IETF protocol assignment (192.0.0.0/24)"
    if ip in _METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "a private or reserved address"
    return None


@dataclass
class SafeFetcher:
    """Fetches small JSON documents by the rules above.

    Parameters:
        overrides: host → base URL to fetch that host's documents from instead (None: from
            `$OMAREVIEW_DID_WEB_OVERRIDES` when `trust_env`, else none).
        timeout_s: the whole fetch's deadline, redirects included.
        max_bytes: the most a document may take, inflated.
        verify: the TLS verification (True: certifi's roots; an SSL context of your own).
        trust_env: read the overrides and `$OMAREVIEW_DNS_SERVER` from the environment, once, when the
            fetcher is made (as httpx's `trust_env`); False for a library user or a server that must not
            let its environment point a host at plain-HTTP loopback.
        dns_server: `host:port` of the DNS server to resolve hosts with (None: `$OMAREVIEW_DNS_SERVER` when
            `trust_env`, else the system resolver).
    """

    overrides: Mapping[str, str] | None = None
    timeout_s: float = TOTAL_TIMEOUT_S
    max_bytes: int = MAX_DOCUMENT_BYTES
    verify: ssl.SSLContext | bool = True
    trust_env: bool = True
    dns_server: str | None = None

    def __post_init__(self) -> None:
        if self.overrides is None:
            self.overrides = overrides_from_env() if self.trust_env else {}
        if self.dns_server is None and self.trust_env:
            self.dns_server = os.environ.get(DNS_SERVER_ENV) or None

    def target_url(self, url: str) -> str:
        """The URL actually fetched: the override's base URL replaces scheme, host and port."""
        parts = urlsplit(url)
        base = (self.overrides or {}).get((parts.hostname or "").lower())
        if base is None:
            return url
        return base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def _addresses(self, host: str, port: int) -> list[IPAddress]:
        """The host's addresses: from the fetcher's DNS server when it has one (the system resolver is then
        never asked; `localhost` still comes from the hosts file), else from the system resolver."""
        server = self.dns_server
        try:
            if server and host.lower().rstrip(".") != "localhost":
                texts = lookup_addresses(host, server, timeout_s=self.timeout_s)
            else:
                texts = [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
        except (OSError, DNSException) as exc:
            raise FetchFailedError(f"cannot resolve {host} ({exc})") from exc
        if not texts:
            raise FetchFailedError(f"cannot resolve {host} (no such name)")
        return [ipaddress.ip_address(text) for text in texts]

    def _ssl_context(self) -> ssl.SSLContext:
        if isinstance(self.verify, ssl.SSLContext):
            return self.verify
        context = ssl.create_default_context(cafile=certifi.where())
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _resolve(self, host: str, port: int, allow_loopback: bool) -> IPAddress:
        try:
            candidates: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            candidates = self._addresses(host, port)
        for ip in candidates:
            refusal = address_refusal(ip, allow_loopback)
            if refusal is not None:
                raise FetchRefusedError(f"refusing to fetch from {host}: it resolves to {ip}, {refusal}")
        return candidates[0]

    def _request(
        self,
        pool: httpcore.ConnectionPool,
        url: str,
        overridden: bool,
        deadline: float,
        json_body: bytes | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        host = parts.hostname or ""
        loopback_allowed = overridden
        if parts.scheme == "http":
            if not overridden:
                raise FetchRefusedError(f"refusing {url}: only HTTPS is allowed")
        elif parts.scheme != "https":
            raise FetchRefusedError(f"refusing {url}: only HTTPS is allowed")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        ip = self._resolve(host, port, loopback_allowed)
        if parts.scheme == "http" and not ip.is_loopback:
            raise FetchRefusedError(f"refusing {url}: plain HTTP is only allowed to a loopback override")
        netloc = f"[{ip}]" if ip.version == 6 else str(ip)
        pinned = parts._replace(netloc=f"{netloc}:{port}").geturl()
        headers: dict[bytes | str, bytes | str] = {
            "Host": parts.netloc.rsplit("@", 1)[-1],
            "Accept": "application/did+json, application/json",
            "Accept-Encoding": "gzip, identity",
        }
        if json_body is not None:
            headers.update({"Accept": "application/json", "Content-Type": "application/json"})
        method = "GET" if json_body is None else "POST"
        with pool.stream(
            method, pinned, headers=headers, content=json_body, extensions={"sni_hostname": host}
        ) as response:
            received = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}
            inflate = Inflater(received.get("content-encoding", "identity"), url, self.max_bytes)
            body = bytearray()
            try:
                for chunk in response.iter_stream():
                    body.extend(inflate.feed(chunk))
                    if len(body) > self.max_bytes:
                        raise FetchRefusedError(f"{url} is larger than {self.max_bytes // 1024} KiB")
            except httpcore.TimeoutException as exc:
                raise FetchFailedError(f"{url} took longer than {self.timeout_s:g} s") from exc
        return response.status, received, bytes(body)

    def get_json(self, url: str) -> object:
        """GET a JSON document. Raises FetchError (status, size, time, address, redirect, not JSON)."""
        status, _, body = self.fetch(url)
        if status != 200:
            raise FetchFailedError(f"{url} answered HTTP {status}")
        try:
            return loads_untrusted(body, what=url, max_bytes=MAX_DOCUMENT_BYTES)
        except UntrustedJsonError as exc:
            raise FetchFailedError(f"{url} did not return JSON ({exc.detail})") from exc

    def fetch(self, url: str, *, json_body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
        """GET `url` (POST `json_body` to it, when given) by the rules above, following same-host redirects
        of a GET (a POST follows none): status, lowercase headers, body. Raises FetchError (size, time,
        address, redirect)."""
        overridden = self.target_url(url) != url
        current = self.target_url(url)
        origin = _origin(current)
        deadline = time.monotonic() + self.timeout_s
        with (
            mapped_errors(url, self.timeout_s),
            httpcore.ConnectionPool(
                ssl_context=self._ssl_context(), network_backend=DeadlineBackend(deadline), retries=0
            ) as pool,
        ):
            for _ in range(MAX_REDIRECTS + 1):
                status, headers, body = self._request(pool, current, overridden, deadline, json_body)
                if status in (301, 302, 303, 307, 308) and json_body is not None:
                    raise FetchRefusedError(f"refusing the redirect of a POST to {url}")
                if status in (301, 302, 303, 307, 308):
                    location = urljoin(current, headers.get("location", ""))
                    if _origin(location) != origin:
                        raise FetchRefusedError(f"refusing the redirect from {url} to another origin ({location})")
                    current = location
                    continue
                break
            else:
                raise FetchRefusedError(f"{url}: more than {MAX_REDIRECTS} redirects")
        return status, headers, body


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)
