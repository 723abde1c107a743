"""`review build | submit | submit-many` through the real CLI against the session devnet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web3 import Web3

from omareview.devnet.node import Devnet
from tests.helpers import run_cli
from tests.reviews import receipt_for, write_json

pytestmark = pytest.mark.chain_isolated


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return cli_env


def address(devnet: Devnet, index: int) -> str:
    return devnet.state.accounts[index].address


def test_build_prints_the_request_and_sends_nothing(
    env: dict[str, str], use_devnet: Devnet, tmp_path: Path, w3: Web3
) -> None:
    receipt = write_json(tmp_path / "r.json", receipt_for(address(use_devnet, 1)))
    before = w3.eth.block_number
    result = run_cli(
        "review",
        "build",
        "--receipt",
        receipt,
        "--rating",
        "5",
        "--dev-account",
        "1",
        "--no-authorize",
        "--json",
        env=env,
    )
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["subject"] == "did:web:api.example.com"
    assert data["recipient"] == "0x09a34a416806a7eba14b6b183369082602e8064b"
    assert data["schemaUid"] == "0x7ab3911527e5e47eaab9f5a2c571060026532dde8cb4398185553053963b2a47"
    assert data["data"].startswith("0x") and len(data["proofs"]) == 1
    assert w3.eth.block_number == before
    offline = run_cli(
        "review",
        "build",
        "--subject",
        "did:web:x.example",
        "--rating",
        "2",
        "--attester",
        address(use_devnet, 2),
        "--offline",
        "--json",
        env=env,
    )
    assert offline.code == 0 and offline.json()["proofs"] == []
    delegated = run_cli(
        "review",
        "build",
        "--subject",
        "did:web:x.example",
        "--rating",
        "2",
        "--dev-account",
        "2",
        "--delegated",
        "--json",
        env=env,
    )
    assert delegated.json()["delegated"]["prepared"]["typedData"]["domain"]["version"] == "1.4.0"


def test_submit_then_duplicate_is_refused(env: dict[str, str], use_devnet: Devnet, tmp_path: Path, w3: Web3) -> None:
    receipt = write_json(tmp_path / "r.json", receipt_for(address(use_devnet, 1), n=7))
    args = [
        "review",
        "submit",
        "--receipt",
        receipt,
        "--rating",
        "5",
        "--body",
        "great",
        "--dev-account",
        "1",
        "--no-authorize",
    ]
    first = run_cli(*args, "--json", env=env)
    assert first.code == 0, first.stderr
    data = first.json()
    assert set(data) >= {"uid", "txHash", "blockNumber", "attester", "subject", "recipient", "schemaUid", "gasUsed"}
    assert data["attester"] == address(use_devnet, 1)
    block = w3.eth.block_number
    again = run_cli(*args, env=env)
    assert again.code == 1
    assert again.error_line == (
        f"error: this receipt already backs review {data['uid']} (recorded in the local outbox); "
        "pass --allow-duplicate to review it again"
    )
    assert w3.eth.block_number == block


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["--rating", "0", "--subject", "did:web:x.example"],
            1,
            "the rating must be a whole number from 1 to 5, not 0",
        ),
        (["--rating", "6", "--subject", "did:web:x.example"], 1, "not 6"),
        (["--rating", "5", "--subject", "did:web:x.example", "--body", "x" * 501], 1, "at most 500 are allowed"),
        (
            [
                "--rating",
                "5",
                "--subject",
                "did:web:x.example",
                *[arg for i in range(11) for arg in ("--screenshot", f"https://s.example/{i}")],
            ],
            1,
            "at most 10 are allowed",
        ),
        (
            ["--rating", "5", "--subject", "did:web:x.example", "--service-version", "v2"],
            1,
            "must look like 1, 1.2 or 1.2.3",
        ),
        (["--rating", "5"], 1, "a review needs a receipt (--receipt) or a subject (--subject)"),
        (["--rating", "x", "--subject", "did:web:x.example"], 2, "'x' is not a valid integer"),
        (
            ["--rating", "5", "--subject", "did:web:x.example", "--relay", "http://127.0.0.1:9"],
            2,
            "--relay goes with --delegated",
        ),
    ],
)
def test_bad_reviews_are_one_line_errors_and_send_nothing(
    env: dict[str, str], w3: Web3, args: list[str], code: int, message: str
) -> None:
    before = w3.eth.block_number
    result = run_cli("review", "submit", *args, "--dev-account", "2", env=env)
    assert result.code == code
    assert message in result.error_line
    assert w3.eth.block_number == before


def test_payer_is_not_the_signer(env: dict[str, str], use_devnet: Devnet, tmp_path: Path, w3: Web3) -> None:
    receipt = write_json(tmp_path / "r.json", receipt_for(address(use_devnet, 1)))
    before = w3.eth.block_number
    result = run_cli(
        "review", "submit", "--receipt", receipt, "--rating", "5", "--dev-account", "3", "--no-authorize", env=env
    )
    assert result.code == 1
    assert (
        f"the receipt's payer is {address(use_devnet, 1)} but the signing wallet is {address(use_devnet, 3)}"
        in result.error_line
    )
    assert w3.eth.block_number == before


def test_no_key_and_rpc_down(env: dict[str, str], tmp_path: Path) -> None:
    no_key = run_cli(
        "review", "submit", "--subject", "did:web:x.example", "--rating", "5", env={**env, "OMAREVIEW_PRIVATE_KEY": ""}
    )
    assert no_key.code == 2 and "no signing key: set OMAREVIEW_PRIVATE_KEY" in no_key.error_line
    bad_key = run_cli(
        "review",
        "submit",
        "--subject",
        "did:web:x.example",
        "--rating",
        "5",
        env={**env, "OMAREVIEW_PRIVATE_KEY": "0x1234"},
    )
    assert bad_key.code == 1 and bad_key.error_line == "error: OMAREVIEW_PRIVATE_KEY is not a 32-byte hex private key"
    down = run_cli(
        "--rpc-url",
        "http://127.0.0.1:9",
        "review",
        "submit",
        "--subject",
        "did:web:x.example",
        "--rating",
        "5",
        "--dev-account",
        "2",
        env=env,
    )
    assert down.code == 3 and "cannot reach the node at http://127.0.0.1:9" in down.error_line


def test_submit_many(env: dict[str, str], use_devnet: Devnet, tmp_path: Path, w3: Web3) -> None:
    payer = address(use_devnet, 4)
    receipts = [write_json(tmp_path / f"r{n}.json", receipt_for(payer, n=n)) for n in range(1, 6)]
    lines = [{"receipt": Path(r).name, "ratingValue": 4, "reviewBody": f"review {i}"} for i, r in enumerate(receipts)]
    lines.append({"subject": "did:web:plain.example", "ratingValue": 2})
    lines.append({"receipt": receipt_for(payer, n=1), "ratingValue": 1})
    jsonl = tmp_path / "reviews.jsonl"
    jsonl.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    result = run_cli("review", "submit-many", str(jsonl), "--dev-account", "4", "--no-authorize", "--json", env=env)
    assert result.code == 1, "the last line repeats the first receipt"
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row.get("ok") for row in rows[:-1]] == [True] * 6 + [False]
    assert "in this batch" in rows[6]["error"]
    assert rows[-1]["summary"]["submitted"] == 6 and rows[-1]["summary"]["transactions"] == 1
    assert result.error_line.startswith("error: this receipt already backs review")

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(lines[0]) + "\n" + json.dumps({"subject": "did:web:x.example", "ratingValue": 9}) + "\n")
    before = w3.eth.block_number
    refused = run_cli("review", "submit-many", str(bad), "--dev-account", "4", "--no-authorize", env=env)
    assert (
        refused.code == 1
        and "bad.jsonl line 2: the rating must be a whole number from 1 to 5, not 9" in refused.error_line
    )
    bad.write_text("{not json\n")
    assert "line 1 is not JSON" in run_cli("review", "submit-many", str(bad), "--dev-account", "4", env=env).error_line
    bad.write_text(json.dumps({"subject": "did:web:x.example", "ratingValue": 3, "colour": "red"}) + "\n")
    assert (
        "line 1: colour: Extra inputs are not permitted"
        in run_cli("review", "submit-many", str(bad), "--dev-account", "4", env=env).error_line
    )
    assert w3.eth.block_number == before
