"""`receipt verify` / `offer verify` through the real CLI, with a DID document and DNS on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omareview.x402 import DidKey, Eip712Issuer, did_document, encode_header, offer_receipt_extension
from tests.helpers import run_cli
from tests.servers import Reply, dns_server, http_server
from tests.vectors import ANVIL0, OFFER, RECEIPT, RECEIPT_SIG

ENVELOPE = {"format": "eip712", "payload": RECEIPT, "signature": RECEIPT_SIG}


@pytest.fixture
def service_env() -> Iterator[dict[str, str]]:
    """api.example.com publishes anvil account 0 as its signer in did.json; DNS answers NXDOMAIN."""
    doc = did_document("did:web:api.example.com", [DidKey("signer", address=ANVIL0)])
    with http_server({"/.well-known/did.json": Reply(body=json.dumps(doc).encode())}) as server, dns_server({}) as dns:
        yield {"OMAREVIEW_DID_WEB_OVERRIDES": f"api.example.com={server.base_url}", "OMAREVIEW_DNS_SERVER": dns}


def write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_a_good_receipt_is_verified(tmp_path: Path, service_env: dict[str, str]) -> None:
    result = run_cli("receipt", "verify", write(tmp_path, "r.json", ENVELOPE), "--json", env=service_env)
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["valid"] is True and data["level"] == "verified" and data["format"] == "eip712"
    assert data["signer"] == {"address": ANVIL0, "did": "did:pkh:eip155:1:" + ANVIL0.lower()}
    assert data["subject"] == "did:web:api.example.com"
    assert data["authorization"]["status"] == "authorized" and data["authorization"]["method"] == "did-json"
    assert data["payload"] == RECEIPT
    human = run_cli("receipt", "verify", write(tmp_path, "r.json", ENVELOPE), env=service_env)
    assert "VALID, level verified" in human.stdout and human.stderr == ""


def test_stdin_header_values_and_json_lines(tmp_path: Path, service_env: dict[str, str]) -> None:
    settle = {"success": True, "network": "eip155:8453", "extensions": offer_receipt_extension(receipt=ENVELOPE)}
    from_stdin = run_cli("receipt", "verify", "-", "--json", "--no-authorize", input=encode_header(settle))
    assert from_stdin.code == 0 and from_stdin.json()["level"] == "signed"
    two = run_cli(
        "receipt",
        "verify",
        write(tmp_path, "a.json", ENVELOPE),
        write(tmp_path, "b.json", settle),
        "--json",
        env=service_env,
    )
    assert [json.loads(line)["level"] for line in two.stdout.splitlines()] == ["verified", "verified"]


def test_pay_to_offer_authorizes(tmp_path: Path) -> None:
    offer = Eip712Issuer("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80").sign_offer(
        {**OFFER, "payTo": ANVIL0}
    )
    with dns_server({}) as dns:
        env = {"OMAREVIEW_DID_WEB_OVERRIDES": "api.example.com=http://127.0.0.1:9", "OMAREVIEW_DNS_SERVER": dns}
        result = run_cli(
            "receipt",
            "verify",
            write(tmp_path, "r.json", ENVELOPE),
            "--offer",
            write(tmp_path, "o.json", offer),
            "--json",
            env=env,
        )
        offer_result = run_cli("offer", "verify", write(tmp_path, "o.json", offer), "--json", env=env)
    assert result.json()["authorization"]["method"] == "pay-to" and result.json()["level"] == "verified"
    assert offer_result.json()["authorization"]["method"] == "pay-to"


TAMPERED_SIG = RECEIPT_SIG[:10] + ("0" if RECEIPT_SIG[10] != "0" else "1") + RECEIPT_SIG[11:]
OFFER_DOMAIN_SIG = Eip712Issuer("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80").sign_offer(OFFER)[
    "signature"
]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({**ENVELOPE, "payload": {**RECEIPT, "payer": ANVIL0}}, "the signer is not authorized for api.example.com"),
        ({**ENVELOPE, "signature": TAMPERED_SIG}, "error: "),
        ({**ENVELOPE, "signature": OFFER_DOMAIN_SIG}, "the signer is not authorized for api.example.com"),
        ({**ENVELOPE, "payload": {**RECEIPT, "version": 2}}, "payload version must be 1, not 2"),
        ({"format": "jws", "signature": "eyJhbGciOiJub25lIn0.e30."}, "algorithm 'none' is not accepted"),
        ({"format": "jws", "signature": "eyJhbGciOiJFZERTQSJ9.e30"}, "3 parts"),
        ("x" * (9 * 1024 * 1024), "larger than 8 MiB"),
        (
            {**ENVELOPE, "payload": {**RECEIPT, "payer": "0x" + "a" * 70_000}},
            "the signed artifact is larger than 64 KiB",
        ),
        ("this is not json", "neither JSON, a base64 x402 header value, nor a compact JWS"),
        ({"success": False, "errorReason": "invalid_signature"}, "the settlement failed (invalid_signature)"),
        ({"success": True}, "carries no signed receipt"),
        (
            {
                "x402Version": 2,
                "accepts": [],
                "extensions": offer_receipt_extension(offers=[{**ENVELOPE, "payload": OFFER}]),
            },
            "holds no signed receipt",
        ),
    ],
)
def test_bad_receipts_are_one_line_exit_1(
    tmp_path: Path, service_env: dict[str, str], content: Any, message: str
) -> None:
    result = run_cli("receipt", "verify", write(tmp_path, "bad.json", content), env=service_env)
    assert result.code == 1, result.stdout
    assert message in result.error_line


def test_missing_file_and_offer_without_offers(tmp_path: Path) -> None:
    missing = run_cli("receipt", "verify", str(tmp_path / "nope.json"))
    assert missing.code == 1 and missing.error_line.endswith("nope.json: no such file")
    no_offer = run_cli(
        "receipt", "verify", write(tmp_path, "r.json", ENVELOPE), "--offer", write(tmp_path, "r2.json", ENVELOPE)
    )
    assert no_offer.code == 1 and "--offer: no signed offer found" in no_offer.error_line
    wrong_kind = run_cli("offer", "verify", write(tmp_path, "r.json", ENVELOPE))
    assert wrong_kind.code == 1 and "holds no signed offer" in wrong_kind.error_line


def test_a_rotated_key_is_seen_within_the_cache_lifetime_in_a_long_lived_process() -> None:
    """One long-lived verifier (as `serve`, `index follow` or a gate keeps one): the service rotates its
    receipt key out of did.json; within the caches' lifetime the old answer stands, after it the receipt's
    key is no longer authorized, without a restart."""
    from omareview._cache import ExpiringCache
    from omareview.identity import DidWebResolver, SafeFetcher
    from omareview.x402 import VerifyOptions, load_artifacts, verify_artifact

    documents = {"now": did_document("did:web:api.example.com", [DidKey("signer", address=ANVIL0)])}
    rotated = did_document("did:web:api.example.com", [DidKey("signer", address="0x" + "11" * 20)])

    def did_json(_: object) -> Reply:
        return Reply(body=json.dumps(documents["now"]).encode())

    with http_server({"/.well-known/did.json": did_json}) as server, dns_server({}) as dns:
        fetcher = SafeFetcher(overrides={"api.example.com": server.base_url})
        options = VerifyOptions(
            resolver=DidWebResolver(fetcher=fetcher, ttl_s=0.5, failure_ttl_s=0.5),
            dns_server=dns,
            authorization_cache=ExpiringCache(ttl_s=0.5),
        )
        (artifact,) = load_artifacts(json.dumps(ENVELOPE))

        def status() -> str:
            return verify_artifact(artifact, options).authorization.status

        assert status() == "authorized"
        documents["now"] = rotated
        assert status() == "authorized", "the cached answer stands within its lifetime"
        time.sleep(0.6)
        assert status() == "unauthorized", "the rotation is seen once the answers expire"
