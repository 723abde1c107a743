"""Fetching documents named by untrusted input (did:web) without becoming an SSRF vector.

Rules (SPEC §6): HTTPS only; every address the host resolves to must be public (no private, loopback,
link-local, multicast, reserved or cloud-metadata ranges) and the connection goes to the address that was
checked, with TLS still verified against the host name; no redirect to another host; a size cap and a
total time bound. An override map (host → base URL) points a host elsewhere for tests and local services;
only an override may use plain HTTP, and only to a loopback address.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
from dns.exception import DNSException

from omareview._json import UntrustedJsonError, loads_untrusted
from omareview.errors import InputError
from omareview.identity.dns_txt import DNS_SERVER_ENV, lookup_addresses

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_REDIRECTS",
    "OVERRIDES_ENV",
    "TOTAL_TIMEOUT_S",
    "FetchError",
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


class FetchError(InputError):
    """A document could not be fetched safely; the message says why. Callers treat it as 'unknown'."""

    default_reason = "fetch-refused"


def parse_overrides(text: str) -> dict[str, str]:
    """`host=base-url,host=base-url` → mapping, hosts lowercased."""
    overrides: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        host, sep, base = item.partition("=")
        if not sep or not host.strip() or not base.strip():
            raise InputError(f"{OVERRIDES_ENV}: {item!r} is not host=base-url", reason="fetch-refused")
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
    """Fetches small JSON documents by the rules above."""

    overrides: Mapping[str, str] = field(default_factory=overrides_from_env)
    timeout_s: float = TOTAL_TIMEOUT_S
    max_bytes: int = MAX_DOCUMENT_BYTES
    verify: ssl.SSLContext | bool = True

    def target_url(self, url: str) -> str:
        """The URL actually fetched: the override's base URL replaces scheme, host and port."""
        parts = urlsplit(url)
        base = self.overrides.get((parts.hostname or "").lower())
        if base is None:
            return url
        return base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def _addresses(self, host: str, port: int) -> list[IPAddress]:
        """The host's addresses: from `$OMAREVIEW_DNS_SERVER` when one is set (the system resolver is then
        never asked; `localhost` still comes from the hosts file), else from the system resolver."""
        server = os.environ.get(DNS_SERVER_ENV)
        try:
            if server and host.lower().rstrip(".") != "localhost":
                texts = lookup_addresses(host, server, timeout_s=self.timeout_s)
            else:
                texts = [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
        except (OSError, DNSException) as exc:
            raise FetchError(f"cannot resolve {host} ({exc})", reason="fetch-refused") from exc
        if not texts:
            raise FetchError(f"cannot resolve {host} (no such name)", reason="fetch-refused")
        return [ipaddress.ip_address(text) for text in texts]

    def _resolve(self, host: str, port: int, allow_loopback: bool) -> IPAddress:
        try:
            candidates: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            candidates = self._addresses(host, port)
        for ip in candidates:
            refusal = address_refusal(ip, allow_loopback)
            if refusal is not None:
                raise FetchError(
                    f"refusing to fetch from {host}: it resolves to {ip}, {refusal}", reason="fetch-refused"
                )
        return candidates[0]

    def _request(
        self, client: httpx.Client, url: str, overridden: bool, deadline: float
    ) -> tuple[httpx.Response, bytes]:
        parts = urlsplit(url)
        host = parts.hostname or ""
        loopback_allowed = overridden
        if parts.scheme == "http":
            if not overridden:
                raise FetchError(f"refusing {url}: only HTTPS is allowed", reason="fetch-refused")
        elif parts.scheme != "https":
            raise FetchError(f"refusing {url}: only HTTPS is allowed", reason="fetch-refused")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        ip = self._resolve(host, port, loopback_allowed)
        if parts.scheme == "http" and not ip.is_loopback:
            raise FetchError(
                f"refusing {url}: plain HTTP is only allowed to a loopback override", reason="fetch-refused"
            )
        netloc = f"[{ip}]" if ip.version == 6 else str(ip)
        pinned = parts._replace(netloc=f"{netloc}:{port}").geturl()
        headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "Accept": "application/did+json, application/json"}
        request = client.build_request("GET", pinned, headers=headers, extensions={"sni_hostname": host})
        response = client.send(request, stream=True)
        try:
            body = bytearray()
            for chunk in response.iter_raw():
                body.extend(chunk)
                if len(body) > self.max_bytes:
                    raise FetchError(f"{url} is larger than {self.max_bytes // 1024} KiB", reason="fetch-refused")
                if time.monotonic() > deadline:
                    raise FetchError(f"{url} took longer than {self.timeout_s:g} s", reason="fetch-refused")
        finally:
            response.close()
        return response, bytes(body)

    def get_json(self, url: str) -> object:
        """GET a JSON document. Raises FetchError (status, size, time, address, redirect, not JSON)."""
        overridden = self.target_url(url) != url
        current = self.target_url(url)
        original_host = urlsplit(current).hostname
        deadline = time.monotonic() + self.timeout_s
        try:
            with httpx.Client(
                timeout=httpx.Timeout(self.timeout_s), follow_redirects=False, verify=self.verify
            ) as client:
                for _ in range(MAX_REDIRECTS + 1):
                    response, body = self._request(client, current, overridden, deadline)
                    if response.is_redirect:
                        location = urljoin(current, response.headers.get("location", ""))
                        if urlsplit(location).hostname != original_host:
                            raise FetchError(
                                f"refusing the redirect from {url} to another host ({location})", reason="fetch-refused"
                            )
                        current = location
                        continue
                    break
                else:
                    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects", reason="fetch-refused")
        except httpx.TimeoutException as exc:
            raise FetchError(f"{url} did not answer within {self.timeout_s:g} s", reason="fetch-refused") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch {url} ({type(exc).__name__}: {exc})", reason="fetch-refused") from exc
        if response.status_code != 200:
            raise FetchError(f"{url} answered HTTP {response.status_code}", reason="fetch-refused")
        try:
            return loads_untrusted(body, what=url, max_bytes=MAX_DOCUMENT_BYTES)
        except UntrustedJsonError as exc:
            raise FetchError(f"{url} did not return JSON ({exc.detail})", reason="fetch-refused") from exc
