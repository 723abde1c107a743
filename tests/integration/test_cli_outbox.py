"""`outbox list | review | submit` through the real CLI."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from omareview.devnet.node import Devnet
from omareview.hooks import ReceiptCapture
from omareview.review.outbox import Outbox
from omareview.x402 import offer_receipt_extension
from tests.helpers import run_cli
from tests.reviews import receipt_for

pytestmark = pytest.mark.chain_isolated


def test_list_review_submit(use_devnet: Devnet, cli_env: dict[str, str]) -> None:
    env = cli_env
    home = Path(cli_env["OMAREVIEW_HOME"])
    assert run_cli("outbox", "list", env=env).stdout.strip() == "the outbox is empty"
    payer = use_devnet.state.accounts[6].address
    settle = {
        "success": True,
        "network": "eip155:31337",
        "extensions": offer_receipt_extension(receipt=receipt_for(payer, n=5)),
    }
    header = base64.b64encode(json.dumps(settle).encode()).decode()
    ReceiptCapture(Outbox(home / "outbox.sqlite3")).observe(
        "https://api.example.com/x", 200, {"PAYMENT-RESPONSE": header}, None
    )
    (entry,) = run_cli("outbox", "list", "--json", env=env).json()
    assert entry["status"] == "pending" and entry["draft"] is None

    nothing = run_cli("outbox", "submit", "--dev-account", "6", env=env)
    assert nothing.code == 0 and "nothing to submit" in nothing.stdout
    bad = run_cli("outbox", "review", entry["digest"][:12], "--rating", "9", env=env)
    assert bad.code == 1 and "not 9" in bad.error_line
    unknown = run_cli("outbox", "review", "0xdeadbeef", "--rating", "4", env=env)
    assert unknown.code == 1 and "no outbox entries match '0xdeadbeef'" in unknown.error_line
    assert run_cli("outbox", "review", entry["digest"][:12], "--rating", "4", "--body", "fine", env=env).code == 0

    submitted = run_cli("outbox", "submit", "--dev-account", "6", "--no-authorize", "--json", env=env)
    assert submitted.code == 0, submitted.stderr
    assert submitted.json()["status"] == "done" and submitted.json()["uid"].startswith("0x")
    (done,) = run_cli("outbox", "list", "--status", "done", "--json", env=env).json()
    assert done["uid"] == submitted.json()["uid"]
    late = run_cli("outbox", "review", entry["digest"][:12], "--rating", "2", env=env)
    assert late.code == 1 and "is done; only pending receipts can be reviewed" in late.error_line


def test_the_wrong_key_rejects_nothing_and_retry_revives_a_rejected_entry(
    use_devnet: Devnet, cli_env: dict[str, str]
) -> None:
    from omareview.hooks import ReviewDraft

    home = Path(cli_env["OMAREVIEW_HOME"])
    outbox = Outbox(home / "outbox.sqlite3")
    payer = use_devnet.state.accounts[6].address
    capture = ReceiptCapture(outbox, rating_policy=lambda response, receipt: ReviewDraft(5, "mine"))
    for n in (31, 32):
        settle = {"success": True, "extensions": offer_receipt_extension(receipt=receipt_for(payer, n=n))}
        header = base64.b64encode(json.dumps(settle).encode()).decode()
        capture.observe("https://api.example.com/x", 200, {"PAYMENT-RESPONSE": header}, None)

    wrong = run_cli("outbox", "submit", "--dev-account", "1", "--no-authorize", "--json", env=cli_env)
    assert wrong.code == 1
    rows = [json.loads(line) for line in wrong.stdout.splitlines()]
    assert {row["status"] for row in rows} == {"pending"} and all("signing wallet" in row["error"] for row in rows)
    assert {e.status for e in outbox.entries()} == {"pending"}, "another wallet's receipts are not rejected"

    first = outbox.entries()[0]
    outbox.update(first.digest, status="rejected", last_error="rejected earlier")
    not_rejected = run_cli("outbox", "retry", outbox.entries()[1].digest[:14], env=cli_env)
    assert not_rejected.code == 1 and "only rejected entries can be retried" in not_rejected.error_line
    assert run_cli("outbox", "retry", env=cli_env).code == 2
    revived = run_cli("outbox", "retry", "--all", "--json", env=cli_env)
    assert revived.code == 0 and revived.json()["status"] == "pending"
    right = run_cli("outbox", "submit", "--dev-account", "6", "--no-authorize", "--json", env=cli_env)
    assert right.code == 0, right.stderr
    assert {e.status for e in outbox.entries()} == {"done"}
