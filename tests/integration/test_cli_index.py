"""`index sync` and `reviews` through the real CLI, on the session devnet."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from omareview._devnet_state import network_of
from omareview.devnet.node import Devnet, start_devnet
from omareview.eas.client import EasClient, review_request
from omareview.networks import Network
from omareview.review import review_of_subject
from omareview.signers import Signer
from tests.helpers import run_cli
from tests.reviews import receipt_for, write_json

pytestmark = [pytest.mark.chain_isolated, pytest.mark.usefixtures("store_engine")]


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return {
        **cli_env,
        "OMAREVIEW_DID_WEB_OVERRIDES": "shop.example=http://127.0.0.1:9",
        "OMAREVIEW_DNS_SERVER": "127.0.0.1:9",
    }


def test_sync_then_reviews(env: dict[str, str], use_devnet: Devnet, tmp_path: Path) -> None:
    payer = use_devnet.state.accounts[5].address
    receipt = write_json(tmp_path / "r.json", receipt_for(payer, resource="https://shop.example/item"))
    assert (
        run_cli(
            "review",
            "submit",
            "--receipt",
            receipt,
            "--rating",
            "4",
            "--body",
            "solid",
            "--dev-account",
            "5",
            "--no-authorize",
            env=env,
        ).code
        == 0
    )
    synced = run_cli("index", "sync", "--json", env=env)
    assert synced.code == 0, synced.stderr
    assert set(synced.json()) == {"fromBlock", "toBlock", "added", "removed"} and synced.json()["added"] >= 1
    again = run_cli("index", "sync", "--json", env=env).json()
    assert again["fromBlock"] == synced.json()["toBlock"] + 1 and again["added"] == 0, (
        "a synced index reads no old block"
    )
    assert run_cli("index", "sync", env=env).stdout.startswith(f"already at block {again['toBlock']}: 0 new")
    listed = run_cli("reviews", "https://www.shop.example/anything", "--json", "--no-authorize", env=env)
    assert listed.code == 0, listed.stderr
    data = listed.json()
    assert data["subject"] == "did:web:shop.example" and data["count"] == 1
    assert set(data) >= {"subject", "recipient", "count", "averageRating", "byLevel", "reviews"}
    (review,) = data["reviews"]
    assert set(review) >= {"uid", "attester", "time", "ratingValue", "reviewBody", "version", "level", "proofs"}
    assert (review["attester"], review["ratingValue"], review["level"]) == (payer, 4, "signed")
    table = run_cli("reviews", "did:web:shop.example", "--no-sync", "--no-authorize", env=env)
    # A signed review is listed but not counted by default (anyone can produce one), and says why.
    assert "1 review(s), no rating yet (none counted:" in table.stdout and "not counted: signed" in table.stdout
    lowered = run_cli(
        "reviews", "did:web:shop.example", "--no-sync", "--no-authorize", "--average-from", "signed", env=env
    )
    assert "1 review(s), average 4.00/5" in lowered.stdout and "signed" in lowered.stdout


def test_reviews_of_a_bad_subject_and_of_nobody(env: dict[str, str]) -> None:
    bad = run_cli("reviews", "did:", "--no-sync", env=env)
    assert bad.code == 1 and "is not a DID" in bad.error_line
    empty = run_cli("reviews", "did:web:nobody.example", "--json", "--no-authorize", env=env)
    assert empty.code == 0 and empty.json()["count"] == 0 and empty.json()["averageRating"] is None


def test_unreachable_chain(env: dict[str, str]) -> None:
    down = run_cli("--rpc-url", "http://127.0.0.1:9", "reviews", "did:web:shop.example", env=env)
    assert down.code == 3 and "cannot reach the node at http://127.0.0.1:9" in down.error_line
    assert run_cli("index", "sync", env=env).code == 0
    stale = run_cli(
        "--rpc-url", "http://127.0.0.1:9", "reviews", "did:web:shop.example", "--json", "--no-authorize", env=env
    )
    assert stale.code == 0
    assert json.loads(stale.stdout)["subject"] == "did:web:shop.example"
    assert (
        stale.stderr.startswith("warning: could not sync") and "showing the index of devnet as of block" in stale.stderr
    )


def test_reviews_merge_networks_the_user_chooses(
    env: dict[str, str], use_devnet: Devnet, network: Network, dev_signer: Callable[[int], Signer], tmp_path: Path
) -> None:
    subject = "did:web:two-chains.example"
    mine = review_of_subject(subject, rating=5, body="on the devnet")
    EasClient(network, dev_signer(3)).attest(review_request(mine.recipient, mine.encode()))
    with start_devnet(home=tmp_path / "second") as second:
        theirs = review_of_subject(subject, rating=1, body="on the second chain")
        other = network_of(second.state).model_copy(update={"name": "second"})
        EasClient(other, dev_signer(4)).attest(review_request(theirs.recipient, theirs.encode()))
        home = Path(env["OMAREVIEW_HOME"])
        (home / "config.toml").write_text(
            f'[networks.second]\nrpc-url = "{other.rpc_url}"\neas-address = "{other.eas_address}"\n'
            f"chain-id = {other.chain_id}\n"
        )
        alone = run_cli("reviews", subject, "--json", env=env)
        merged = run_cli("reviews", subject, "--also-network", "second", "--json", env=env)
    assert alone.code == 0 and alone.json()["count"] == 1, alone.stderr
    assert merged.code == 0, merged.stderr
    listed = merged.json()
    assert (listed["count"], listed["byLevel"]["unverified"]) == (2, 2)
    assert sorted((r["network"], r["reviewBody"]) for r in listed["reviews"]) == [
        ("devnet", "on the devnet"),
        ("second", "on the second chain"),
    ]


def test_a_store_that_is_not_postgresql_or_sqlite_is_refused(env: dict[str, str]) -> None:
    refused = run_cli("--store", "mysql://user:secret@db/reviews", "reviews", "did:web:x.example", env=env)
    assert refused.code == 2
    assert refused.error_line == (
        "error: the store 'db/reviews' is neither postgresql://… nor sqlite:///PATH "
        "(leave it unset for the embedded SQLite index)"
    )
    assert "secret" not in refused.stderr
