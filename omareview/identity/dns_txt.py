"""Signer authorization published in DNS: TXT records at `_controllers.<domain>`, `v=1;controller=<did>;…`."""

from __future__ import annotations

import os
from dataclasses import dataclass

import dns.exception
import dns.resolver

from omareview.errors import InputError
from omareview.identity.dids import normalize_did

__all__ = [
    "DNS_SERVER_ENV",
    "DNS_TIMEOUT_S",
    "ControllerRecords",
    "lookup_addresses",
    "lookup_controllers",
    "parse_controller_record",
]

DNS_SERVER_ENV = "OMAREVIEW_DNS_SERVER"
DNS_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class ControllerRecords:
    """What `_controllers.<domain>` says: the controller DIDs of every well-formed `v=1` record, and the
    records that were present but malformed."""

    controllers: tuple[str, ...]
    malformed: tuple[str, ...]


def parse_controller_record(text: str) -> list[str]:
    """The controller DIDs of one TXT record; InputError when it is not a well-formed `v=1` record."""
    fields = [part.strip() for part in text.replace(" ", ";").split(";") if part.strip()]
    if not fields or fields[0] != "v=1":
        raise InputError(f"TXT record {text!r} does not start with v=1", reason="bad-dns-record")
    controllers = []
    for item in fields[1:]:
        key, sep, value = item.partition("=")
        if not sep or key != "controller" or not value:
            raise InputError(f"TXT record {text!r}: {item!r} is not controller=<did>", reason="bad-dns-record")
        controllers.append(normalize_did(value))
    if not controllers:
        raise InputError(f"TXT record {text!r} names no controller", reason="bad-dns-record")
    return controllers


def _resolver(timeout_s: float, server: str | None) -> dns.resolver.Resolver:
    configured = server or os.environ.get(DNS_SERVER_ENV)
    if not configured:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        host, _, port = configured.rpartition(":") if configured.count(":") == 1 else (configured, "", "")
        resolver.nameservers = [host or configured]
        resolver.port = int(port) if port else 53
    resolver.lifetime = timeout_s
    resolver.timeout = timeout_s
    return resolver


def lookup_addresses(host: str, server: str, *, timeout_s: float = DNS_TIMEOUT_S) -> list[str]:
    """A and AAAA addresses of `host` from one chosen DNS server (the system resolver is not asked).
    No such name → empty; a timeout or failure raises `dns.exception.DNSException`."""
    resolver = _resolver(timeout_s, server)
    found: list[str] = []
    for rdtype in ("A", "AAAA"):
        try:
            found += [record.to_text() for record in resolver.resolve(host, rdtype)]
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            continue
    return found


def lookup_controllers(
    domain: str, *, timeout_s: float = DNS_TIMEOUT_S, server: str | None = None
) -> ControllerRecords:
    """Query `_controllers.<domain>` TXT. No such name or no TXT → empty records. A timeout or server
    failure raises `dns.exception.DNSException` for the caller to report as 'unknown'."""
    try:
        answer = _resolver(timeout_s, server).resolve(f"_controllers.{domain}", "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return ControllerRecords((), ())
    controllers: list[str] = []
    malformed: list[str] = []
    for record in answer:
        text = b"".join(record.strings).decode("utf-8", errors="replace")
        try:
            controllers += parse_controller_record(text)
        except InputError:
            malformed.append(text)
    return ControllerRecords(tuple(controllers), tuple(malformed))
