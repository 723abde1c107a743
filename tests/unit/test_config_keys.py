"""Documented configuration keys take effect: `store` in config.toml, and the policy's
`sync_timeout_seconds` bounds the sync the gate makes before a decision."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from omareview.errors import ChainError, ConfigError
from omareview.index._engines import store_url


def test_the_store_key_of_config_toml_is_accepted_and_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMAREVIEW_STORE", raising=False)
    (tmp_path / "config.toml").write_text('store = "postgresql://reader@127.0.0.1:5432/reviews"\n')
    assert store_url(home=tmp_path) == "postgresql://reader@127.0.0.1:5432/reviews"
    assert store_url("postgresql://other@127.0.0.1/x", home=tmp_path) == "postgresql://other@127.0.0.1/x"


def test_a_typo_in_config_toml_is_still_named(tmp_path: Path) -> None:
    from omareview._home import load_config

    (tmp_path / "config.toml").write_text('stores = "postgresql://reader@127.0.0.1/reviews"\n')
    with pytest.raises(ConfigError, match="unknown key 'stores'"):
        load_config(tmp_path)


def test_the_gate_s_sync_stops_at_the_policy_s_timeout() -> None:
    from omareview.gate.decide import _within

    check = _within(0.05)
    check(10, 100)
    time.sleep(0.06)
    with pytest.raises(ChainError, match="stopped at block 20 of 100 after 0.05 s") as raised:
        check(20, 100)
    assert raised.value.reason == "sync-timeout"


def test_cost_to_move_counted_by_hand() -> None:
    from omareview.index.summary import cost_to_move

    # Four 5-star reviews: no 5-star review moves them up; down to 4.5 takes k with (20 + k) / (4 + k) <= 4.5,
    # k >= 0.57: one 1-star review.
    four = cost_to_move([5, 5, 5, 5], [(7, "0xasset"), (3, "0xasset")])
    assert four is not None and (four.reviews, four.direction, four.amount) == (1, "down", "3")
    # Ten reviews averaging 3.0: up needs (30 + 5k) / (10 + k) >= 3.5, k >= 3.33: four; down the same.
    ten = cost_to_move([3] * 10, [])
    assert ten is not None and ten.reviews == 4 and ten.amount is None
    assert cost_to_move([], [(5, "0xa")]) is not None, "no reviews: one sets the average"


def test_every_documented_config_key_shows_in_omareview_config(tmp_path: Path) -> None:
    """Every key `docs/configuration.md` and the reader guide document, written once, is what `omareview config`
    reports in effect; its URLs are shown by scheme and host only, so no password or API key is printed."""
    import json

    from tests.helpers import run_cli

    (tmp_path / "config.toml").write_text(
        'store = "postgresql://reader:hunter2@127.0.0.1:5432/reviews"\n'
        "[networks.mychain]\n"
        "chain-id = 8453\n"
        'rpc-url = "https://rpc.example.org/v2/SECRETKEY"\n'
        'eas-address = "0x4200000000000000000000000000000000000021"\n'
        "deployment-block = 1000000\n"
        'trust-anchors = "https://example.org/trust-anchors.json"\n'
        "[networks.mychain.schemas]\n"
        'user-review = "0x7ab3911527e5e47eaab9f5a2c571060026532dde8cb4398185553053963b2a47"\n'
        '[payment-networks."eip155:8453"]\n'
        'rpc-url = "https://reader:SECRETKEY@base.example/rpc"\n'
        "confirmations = 12\n"
    )
    (tmp_path / "policy.toml").write_text("refuse_min_reviews = 7\nsync_timeout_seconds = 1.5\n")
    env = {"OMAREVIEW_HOME": str(tmp_path), "OMAREVIEW_STORE": ""}
    shown = run_cli("--network", "mychain", "config", "--json", env=env)
    assert shown.code == 0, shown.stderr
    document = json.loads(shown.stdout)
    mine = document["networks"]["mychain"]
    assert (mine["chainId"], mine["rpcUrl"], mine["deploymentBlock"]) == (8453, "https://rpc.example.org", 1000000)
    assert mine["easAddress"] == "0x4200000000000000000000000000000000000021"
    assert mine["trustAnchors"] == "https://example.org/trust-anchors.json"
    assert mine["schemas"]["user-review"].startswith("0x7ab39115")
    assert document["paymentNetworks"]["eip155:8453"] == {"rpcUrl": "https://base.example", "finality": 12}
    assert document["store"] == "postgresql://127.0.0.1:5432"
    human = run_cli("--network", "mychain", "config", env=env)
    for output in (shown.stdout, human.stdout):
        assert "hunter2" not in output and "SECRETKEY" not in output
    assert (document["policy"]["refuse_min_reviews"], document["policy"]["sync_timeout_seconds"]) == (7, 1.5)
    (tmp_path / "config.toml").write_text("[networks.broken]\nrpc-url = 5\n")
    broken = run_cli("config", env=env)
    assert broken.code == 2 and broken.error_line.startswith("error: "), broken.stderr


def test_config_toml_is_read_once_per_version_of_the_file(tmp_path: Path) -> None:
    from omareview._home import load_config

    config = tmp_path / "config.toml"
    config.write_text('store = "postgresql://a@127.0.0.1/x"\n')
    first = load_config(tmp_path)
    assert load_config(tmp_path) is first, "a second read of the same file is the first one's"
    config.write_text('store = "postgresql://bb@127.0.0.1/x"\n')
    assert load_config(tmp_path).store == "postgresql://bb@127.0.0.1/x", "an edit is seen at the next read"
    config.write_text("store = 5\n")
    with pytest.raises(ConfigError, match="store: Input should be a valid string"):
        load_config(tmp_path)
