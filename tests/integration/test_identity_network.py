"""did:web resolution, SSRF guards, DNS TXT and authorization against real servers on loopback."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from omareview.errors import InputError
from omareview.identity import (
    DidWebResolver,
    FetchError,
    SafeFetcher,
    authorize_signer,
    did_jwk_from_key,
    did_key_from_key,
    find_verification_method,
    lookup_controllers,
    method_public_key,
    parse_overrides,
    public_key_to_jwk,
)
from omareview.identity.fetch import address_refusal
from tests.servers import Reply, dns_server, http_server, self_signed_tls

ANVIL0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ANVIL1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ED_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key()


def did_document(did: str, methods: list[dict[str, object]], **relationships: list[object]) -> bytes:
    doc = {"@context": ["https://www.w3.org/ns/did/v1"], "id": did, "verificationMethod": methods, **relationships}
    return json.dumps(doc).encode()


def resolver_for(host: str, base_url: str, **kwargs: object) -> DidWebResolver:
    return DidWebResolver(fetcher=SafeFetcher(overrides={host: base_url}, **kwargs))  # type: ignore[arg-type]


def test_resolution_through_the_override_and_method_lookup() -> None:
    did = "did:web:api.example.com"
    methods = [
        {"id": f"{did}#key-1", "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": public_key_to_jwk(ED_KEY)},
        {"id": "#wallet", "type": "EcdsaSecp256k1RecoveryMethod2020", "blockchainAccountId": f"eip155:1:{ANVIL0}"},
    ]
    routes = {"/.well-known/did.json": Reply(body=did_document(did, methods, assertionMethod=["#wallet"]))}
    with http_server(routes) as server:
        resolver = resolver_for("api.example.com", server.base_url)
        doc = resolver.resolve(did + "#key-1")
        assert doc["id"] == did
        key = method_public_key(find_verification_method(doc, did + "#key-1"))
        assert key is not None and public_key_to_jwk(key) == public_key_to_jwk(ED_KEY)
        assert find_verification_method(doc, did + "#wallet")["blockchainAccountId"].endswith(ANVIL0)
        assert find_verification_method(doc, did)["id"] == "#wallet"
        with pytest.raises(InputError, match="has no verification method #nope"):
            find_verification_method(doc, did + "#nope")
        resolver.resolve(did)
        assert server.seen == ["/.well-known/did.json"], "the second resolution must come from the cache"


def test_path_dids_and_a_document_whose_id_differs() -> None:
    routes = {
        "/users/alice/did.json": Reply(body=did_document("did:web:example.com:users:alice", [])),
        "/.well-known/did.json": Reply(body=did_document("did:web:evil.example", [])),
    }
    with http_server(routes) as server:
        resolver = resolver_for("example.com", server.base_url)
        assert resolver.resolve("did:web:example.com:users:alice")["id"] == "did:web:example.com:users:alice"
        with pytest.raises(FetchError, match="has id 'did:web:evil.example'"):
            resolver.resolve("did:web:example.com")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://10.1.2.3/.well-known/did.json", "10.1.2.3, a private or reserved address"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254, a cloud metadata address"),
        ("https://169.254.10.10/x", "a link-local address"),
        ("https://[::1]/x", "::1, a loopback address"),
        ("https://[::ffff:10.0.0.1]/x", "a private or reserved address"),
        ("https://127.0.0.1/x", "127.0.0.1, a loopback address"),
        ("https://localhost/x", "a loopback address"),
        ("https://224.0.0.1/x", "a multicast address"),
    ],
)
def test_non_public_addresses_are_refused_before_connecting(url: str, reason: str) -> None:
    with pytest.raises(FetchError, match="refusing to fetch from .*" + reason.replace("[", r"\[")):
        SafeFetcher(overrides={}).get_json(url)


def test_plain_http_is_refused_without_an_override() -> None:
    from omareview.errors import InputError
    from omareview.identity.fetch import FetchRefusedError

    with pytest.raises(FetchError, match="only HTTPS is allowed") as refused:
        SafeFetcher(overrides={}).get_json("http://example.com/.well-known/did.json")
    assert isinstance(refused.value, FetchRefusedError) and isinstance(refused.value, InputError)
    assert refused.value.reason == "fetch-refused"


def test_an_override_may_not_send_plain_http_off_the_machine() -> None:
    fetcher = SafeFetcher(overrides={"example.com": "http://192.0.2.1:80"})
    with pytest.raises(FetchError, match="a private or reserved address"):
        fetcher.get_json("https://example.com/.well-known/did.json")


def test_redirect_to_another_host_is_refused_and_same_host_followed() -> None:
    routes = {
        "/.well-known/did.json": Reply(302, headers={"Location": "https://attacker.example/did.json"}),
        "/moved/did.json": Reply(302, headers={"Location": "/real/did.json"}),
        "/real/did.json": Reply(body=b'{"ok": true}'),
    }
    with http_server(routes) as server:
        fetcher = SafeFetcher(overrides={"example.com": server.base_url})
        with pytest.raises(FetchError, match="refusing the redirect .* to another origin"):
            fetcher.get_json("https://example.com/.well-known/did.json")
        assert fetcher.get_json("https://example.com/moved/did.json") == {"ok": True}


def test_a_one_mebibyte_document_is_refused() -> None:
    big = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    with http_server({"/.well-known/did.json": Reply(body=big)}) as server:
        fetcher = SafeFetcher(overrides={"example.com": server.base_url})
        with pytest.raises(FetchError, match="is larger than 64 KiB"):
            fetcher.get_json("https://example.com/.well-known/did.json")


def test_a_stalling_server_times_out_within_the_bound() -> None:
    with http_server({"/.well-known/did.json": Reply(body=b"{}", delay_s=10)}) as server:
        fetcher = SafeFetcher(overrides={"example.com": server.base_url}, timeout_s=1.0)
        started = time.monotonic()
        with pytest.raises(FetchError, match="did not answer within 1 s"):
            fetcher.get_json("https://example.com/.well-known/did.json")
        assert time.monotonic() - started < 2.5


def test_a_trickling_server_hits_the_total_bound() -> None:
    with http_server({"/.well-known/did.json": Reply(body=b'{"a": "' + b"x" * 200 + b'"}', trickle_s=0.02)}) as server:
        fetcher = SafeFetcher(overrides={"example.com": server.base_url}, timeout_s=1.0)
        started = time.monotonic()
        with pytest.raises(FetchError, match="took longer than 1 s"):
            fetcher.get_json("https://example.com/.well-known/did.json")
        assert time.monotonic() - started < 2.5


def test_status_and_garbage_are_fetch_errors() -> None:
    routes = {"/gone/did.json": Reply(404), "/junk/did.json": Reply(body=b"<html>")}
    with http_server(routes) as server:
        fetcher = SafeFetcher(overrides={"example.com": server.base_url})
        with pytest.raises(FetchError, match="answered HTTP 404") as failed:
            fetcher.get_json("https://example.com/gone/did.json")
        # A service that failed is not a refused input: another kind, another exit code.
        from omareview.errors import InputError, ServiceError
        from omareview.identity.fetch import FetchFailedError

        assert isinstance(failed.value, FetchFailedError) and isinstance(failed.value, ServiceError)
        assert not isinstance(failed.value, InputError) and failed.value.reason == "fetch-failed"
        with pytest.raises(FetchError, match="did not return JSON"):
            fetcher.get_json("https://example.com/junk/did.json")


def test_https_is_pinned_to_the_checked_address_and_verified_by_name(tmp_path: Path) -> None:
    tls = self_signed_tls(tmp_path, "localhost")
    with http_server({"/.well-known/did.json": Reply(body=b'{"tls": true}')}, tls=tls.server_context) as server:
        base = f"https://localhost:{server.port}"
        trusted = SafeFetcher(overrides={"secure.example": base}, verify=tls.client_context)
        assert trusted.get_json("https://secure.example/.well-known/did.json") == {"tls": True}
        untrusted = SafeFetcher(overrides={"secure.example": base})
        with pytest.raises(FetchError, match="cannot reach"):
            untrusted.get_json("https://secure.example/.well-known/did.json")


def test_address_refusal_table() -> None:
    import ipaddress

    assert address_refusal(ipaddress.ip_address("93.184.216.34"), allow_loopback=False) is None
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert address_refusal(ipaddress.ip_address("fd00:ec2::254"), allow_loopback=True) == "a cloud metadata address"
    assert address_refusal(ipaddress.ip_address("100.64.0.1"), allow_loopback=False) == "a private or reserved address"


def test_override_parsing() -> None:
    assert parse_overrides("A.example=http://127.0.0.1:8402/, b.example=https://x") == {
        "a.example": "http://127.0.0.1:8402",
        "b.example": "https://x",
    }
    with pytest.raises(InputError, match="is not host=base-url"):
        parse_overrides("a.example")


def test_dns_txt_records() -> None:
    records = {
        "_controllers.good.example": [[b"v=1;controller=did:pkh:eip155:1:" + ANVIL0.encode()]],
        "_controllers.split.example": [
            [b"v=1;controller=did:key:z6Mkha", b"XgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"]
        ],
        "_controllers.bad.example": [[b"v=2;controller=x"], [b"hello"]],
        "_controllers.empty.example": [],
    }
    with dns_server(records) as server:
        good = lookup_controllers("good.example", server=server)
        assert good.controllers == (f"did:pkh:eip155:1:{ANVIL0.lower()}",)
        split = lookup_controllers("split.example", server=server)
        assert split.controllers == ("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",)
        bad = lookup_controllers("bad.example", server=server)
        assert bad.controllers == () and len(bad.malformed) == 2
        assert lookup_controllers("nxdomain.example", server=server).controllers == ()
        assert lookup_controllers("empty.example", server=server).controllers == ()


def test_authorization_through_dns() -> None:
    jwk_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    records = {
        "_controllers.shop.example": [
            [f"v=1;controller=did:pkh:eip155:8453:{ANVIL0};controller={did_jwk_from_key(jwk_key)}".encode()]
        ],
        "_controllers.junk.example": [[b"v=1;nonsense"]],
    }
    no_did_json = DidWebResolver(fetcher=SafeFetcher(overrides={}))
    with dns_server(records) as server:

        def check(signer: object, domain: str) -> tuple[str, str | None]:
            result = authorize_signer(signer, domain, dns_server=server, use_did_json=False)  # type: ignore[arg-type]
            return result.status, result.method

        assert check(ANVIL0.lower(), "shop.example") == ("authorized", "dns-txt")
        assert check(ANVIL0, ["https:", "www.shop.example/"][1].rstrip("/")) == ("authorized", "dns-txt")
        assert check(jwk_key, "shop.example") == ("authorized", "dns-txt")
        assert check(public_key_to_jwk(jwk_key), "shop.example") == ("authorized", "dns-txt")
        assert check(ANVIL1, "shop.example") == ("unauthorized", "dns-txt")
        assert check(ANVIL1, "junk.example")[0] == "unknown"
        assert check(ANVIL1, "nxdomain.example")[0] == "unknown"
        both = authorize_signer(ANVIL1, "shop.example", dns_server=server, resolver=no_did_json)
        assert both.status == "unauthorized"
        assert "did.json: refusing to fetch" in both.detail or "did.json: cannot resolve" in both.detail


def test_authorization_when_dns_is_down_is_unknown_never_an_exception() -> None:
    result = authorize_signer(ANVIL0, "shop.example", dns_server="127.0.0.1:9", dns_timeout_s=0.5, use_did_json=False)
    assert result.status == "unknown"
    assert "could not be read" in result.detail


def test_authorization_through_the_did_document() -> None:
    did = "did:web:api.example.com"
    secp = ec.derive_private_key(
        int("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d", 16), ec.SECP256K1()
    ).public_key()
    methods = [
        {"id": "#k1", "type": "JsonWebKey2020", "publicKeyJwk": public_key_to_jwk(ED_KEY)},
        {"id": "#k2", "type": "Multikey", "publicKeyMultibase": did_key_from_key(secp).removeprefix("did:key:")},
        {"id": "#k3", "type": "EcdsaSecp256k1RecoveryMethod2020", "blockchainAccountId": f"eip155:8453:{ANVIL0}"},
    ]
    with http_server({"/.well-known/did.json": Reply(body=did_document(did, methods))}) as server:
        resolver = resolver_for("api.example.com", server.base_url)

        def check(signer: object) -> tuple[str, str | None]:
            result = authorize_signer(signer, "api.example.com", resolver=resolver, use_dns=False)  # type: ignore[arg-type]
            return result.status, result.method

        assert check(ANVIL0) == ("authorized", "did-json")
        assert check(ED_KEY) == ("authorized", "did-json")
        assert check(did_key_from_key(ED_KEY)) == ("authorized", "did-json")
        assert check(ANVIL1) == ("authorized", "did-json"), "anvil key 1's address matches the secp256k1 multikey"
        assert check("0x" + "12" * 20) == ("unauthorized", "did-json")
    unreachable = resolver_for("api.example.com", "http://127.0.0.1:9")
    result = authorize_signer(ANVIL0, "api.example.com", resolver=unreachable, use_dns=False)
    assert result.status == "unknown"


def test_pay_to_authorization() -> None:
    result = authorize_signer(ANVIL0, "x.example", pay_to=ANVIL0.lower(), use_did_json=False, use_dns=False)
    assert (result.status, result.method) == ("authorized", "pay-to")


def test_a_server_dripping_its_headers_is_cut_off_at_the_total_bound() -> None:
    import socket as sockets
    import threading

    listener = sockets.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def drip() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(4096)
            for byte in b"HTTP/1.1 200 OK\r\nX-Padding: " + b"x" * 400:
                if stop.is_set():
                    return
                connection.sendall(bytes([byte]))
                time.sleep(0.05)

    threading.Thread(target=drip, daemon=True).start()
    try:
        port = listener.getsockname()[1]
        fetcher = SafeFetcher(overrides={"example.com": f"http://127.0.0.1:{port}"}, timeout_s=1.0)
        started = time.monotonic()
        with pytest.raises(FetchError, match="did not answer within 1 s"):
            fetcher.get_json("https://example.com/.well-known/did.json")
        assert time.monotonic() - started < 2.0, "the bound is total, not per byte"
    finally:
        stop.set()
        listener.close()


def test_a_gzip_document_is_read_and_a_gzip_bomb_is_refused() -> None:
    import gzip

    document = gzip.compress(b'{"id": "did:web:example.com"}')
    bomb = gzip.compress(b'{"a": "' + b"x" * 10_000_000 + b'"}')
    routes = {
        "/ok/did.json": Reply(body=document, headers={"Content-Encoding": "gzip"}),
        "/bomb/did.json": Reply(body=bomb, headers={"Content-Encoding": "gzip"}),
    }
    with http_server(routes) as server:
        fetcher = SafeFetcher(overrides={"example.com": server.base_url})
        assert fetcher.get_json("https://example.com/ok/did.json") == {"id": "did:web:example.com"}
        with pytest.raises(FetchError, match="inflates to more than 64 KiB"):
            fetcher.get_json("https://example.com/bomb/did.json")


def test_one_authorization_look_up_per_host_per_run_failures_included(tmp_path: Path) -> None:
    """Five receipts of one host whose DNS fails: the TXT record is asked for once, not five times."""
    import json
    import socket as sockets
    import threading

    import dns.message
    import dns.rcode

    from omareview.x402 import Eip712Issuer, receipt_payload
    from tests.helpers import run_cli

    queries: list[str] = []
    server = sockets.socket(sockets.AF_INET, sockets.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = server.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            queries.append(query.question[0].name.to_text())
            response = dns.message.make_response(query)
            response.set_rcode(dns.rcode.SERVFAIL)
            server.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    issuer = Eip712Issuer("0x" + "33" * 32)
    receipts = [
        issuer.sign_receipt(receipt_payload(f"https://flaky.example/r{n}", "0x" + "44" * 20, "eip155:8453"))
        for n in range(5)
    ]
    path = tmp_path / "receipts.json"
    path.write_text(json.dumps(receipts))
    dns_server = f"127.0.0.1:{server.getsockname()[1]}"
    try:
        result = run_cli("receipt", "verify", str(path), "--json", env={"OMAREVIEW_DNS_SERVER": dns_server})
    finally:
        stop.set()
        thread.join(5)
        server.close()
    assert result.code == 0, result.stderr
    assert [json.loads(line)["authorization"]["status"] for line in result.stdout.splitlines()] == ["unknown"] * 5
    assert queries.count("_controllers.flaky.example.") == 1, queries
