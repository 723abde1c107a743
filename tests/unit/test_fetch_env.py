"""The fetcher reads the environment only when asked to (`trust_env`, as httpx does), and once, when made:
a library user or a server can refuse to let its environment point a host at plain-HTTP loopback."""

from __future__ import annotations

import pytest

from omareview.identity.fetch import SafeFetcher


def test_the_environment_is_read_once_and_only_when_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMAREVIEW_DID_WEB_OVERRIDES", "bank.example=http://127.0.0.1:9")
    monkeypatch.setenv("OMAREVIEW_DNS_SERVER", "127.0.0.1:5353")
    trusting = SafeFetcher()
    assert trusting.target_url("https://bank.example/.well-known/did.json") == "http://127.0.0.1:9/.well-known/did.json"
    assert trusting.dns_server == "127.0.0.1:5353"
    sealed = SafeFetcher(trust_env=False)
    assert sealed.target_url("https://bank.example/.well-known/did.json") == "https://bank.example/.well-known/did.json"
    assert sealed.dns_server is None and sealed.overrides == {}
    monkeypatch.setenv("OMAREVIEW_DID_WEB_OVERRIDES", "")
    assert trusting.target_url("https://bank.example/x") == "http://127.0.0.1:9/x", "read when made, not per fetch"
    explicit = SafeFetcher(overrides={"a.example": "http://127.0.0.1:1"}, trust_env=False, dns_server="127.0.0.1:53")
    assert (
        explicit.target_url("https://a.example/d") == "http://127.0.0.1:1/d" and explicit.dns_server == "127.0.0.1:53"
    )
