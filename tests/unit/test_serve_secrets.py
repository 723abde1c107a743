"""Nothing secret in any answer: a provider whose node URL carries a user, a password and a path key, with
the node down, answers every write with a fixed message per code, and its log names the node by scheme
and host only."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from omareview.networks import resolve_network
from omareview.serve import ProviderConfig, ReviewProvider, create_app
from omareview.signers import signer_from_key

SECRETS = ("operator", "hunter2", "KEY-0f9e8d7c")
RPC_URL = "http://operator:hunter2@127.0.0.1:9/v2/KEY-0f9e8d7c?token=KEY-0f9e8d7c"


def test_a_failing_node_s_credentials_reach_no_answer_and_no_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    network = resolve_network("devnet", rpc_url=RPC_URL, eas_address="0x" + "22" * 20, home=tmp_path)
    provider = ReviewProvider(ProviderConfig(network, signer_from_key("0x" + "07" * 32), home=tmp_path, syncs=False))
    caplog.set_level(logging.DEBUG)
    answers = []
    with TestClient(create_app(provider), raise_server_exceptions=False) as client:
        body = b'{"attester": "0x' + b"11" * 20 + b'", "signature": "0x", "prepared": {}}'
        answers.append(client.post("/v1/delegated-attest", content=body))
        answers.append(client.post(f"/r/eip155%3A31337%3A0x{'ab' * 32}", content=body))
        answers.append(client.get("/v1/nonce", params={"attester": "0x" + "11" * 20}))
    failed = [a for a in answers if a.status_code >= 500]
    assert failed, [a.status_code for a in answers]
    for answer in answers:
        assert not any(secret in answer.text for secret in SECRETS), answer.text
        assert answer.headers["content-type"].startswith("application/json"), answer.text
    for answer in failed:
        assert answer.json()["code"] in ("CHAIN_ERROR", "UPSTREAM_ERROR"), answer.text
        assert "127.0.0.1" not in answer.text, "a client learns nothing of the operator's node"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "http://127.0.0.1:9" in logged, "the operator's log says which node failed"
    assert not any(secret in logged for secret in SECRETS), logged


def test_a_provider_without_a_relayer_key_refuses_writes_with_403(tmp_path: Path) -> None:
    network = resolve_network("devnet", rpc_url="http://127.0.0.1:9", eas_address="0x" + "22" * 20, home=tmp_path)
    provider = ReviewProvider(ProviderConfig(network, None, home=tmp_path, syncs=False))
    body = b'{"attester": "0x' + b"11" * 20 + b'", "signature": "0x", "prepared": {}}'
    with TestClient(create_app(provider), raise_server_exceptions=False) as client:
        answers = [
            client.post("/v1/delegated-attest", content=body),
            client.post(f"/r/eip155%3A31337%3A0x{'ab' * 32}", content=body),
        ]
    for answer in answers:
        assert (answer.status_code, answer.json()["code"]) == (403, "NO_DELEGATE_KEY"), answer.text


def test_unknown_routes_and_methods_are_refused_as_json(tmp_path: Path) -> None:
    network = resolve_network("devnet", rpc_url="http://127.0.0.1:9", eas_address="0x" + "22" * 20, home=tmp_path)
    provider = ReviewProvider(ProviderConfig(network, None, home=tmp_path, syncs=False))
    with TestClient(create_app(provider), raise_server_exceptions=False) as client:
        missing, wrong = client.get("/nothing/here"), client.delete("/v1/delegated-attest")
    assert (missing.status_code, missing.json()["code"]) == (404, "NOT_FOUND")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "METHOD_NOT_ALLOWED")
