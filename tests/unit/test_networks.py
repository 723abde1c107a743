from pathlib import Path

import pytest

from omareview.errors import ConfigError
from omareview.networks import OMACHAIN_TESTNET, resolve_network

USER_REVIEW_UID = "0x7ab3911527e5e47eaab9f5a2c571060026532dde8cb4398185553053963b2a47"


def test_omachain_testnet_is_built_in() -> None:
    net = resolve_network(OMACHAIN_TESTNET)
    assert net.chain_id == 66238
    assert net.rpc_url == "https://rpc.testnet.chain.oma3.org/"
    assert net.eas_address == "0x8835AF90f1537777F52E482C8630cE4e947eCa32"
    assert net.schema_registry_address == "0x7946127D2f517c8584FdBF801b82F54436EC6FC7"
    assert net.schema_uid() == USER_REVIEW_UID


def test_overrides_win() -> None:
    net = resolve_network(
        OMACHAIN_TESTNET,
        rpc_url="http://127.0.0.1:9999",
        eas_address="0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
        schema_uid="0x" + "AB" * 32,
    )
    assert net.rpc_url == "http://127.0.0.1:9999"
    assert net.eas_address == "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
    assert net.schema_uid() == "0x" + "ab" * 32


@pytest.mark.parametrize(
    ("kwargs", "message", "reason"),
    [
        ({"eas_address": "0x1234"}, "the EAS address '0x1234' is not an address", "bad-address"),
        ({"schema_uid": "0x12"}, "is not a 32-byte hex UID", "bad-schema-uid"),
    ],
)
def test_bad_overrides_are_refused(kwargs: dict[str, str], message: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        resolve_network(OMACHAIN_TESTNET, **kwargs)
    assert refused.value.reason == reason
    assert "--" not in str(refused.value), "the library names no command-line flag"


def test_devnet_without_a_running_devnet_says_so_by_reason() -> None:
    with pytest.raises(ConfigError, match="no devnet is running") as refused:
        resolve_network()
    assert refused.value.reason == "devnet-not-running"


def test_devnet_name_with_explicit_endpoint_needs_no_devnet() -> None:
    net = resolve_network(rpc_url="http://127.0.0.1:1", eas_address="0x8835AF90f1537777F52E482C8630cE4e947eCa32")
    assert net.name == "custom"
    assert net.schema_uid() == USER_REVIEW_UID


def test_unknown_network_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown network 'mainnet'; known: devnet, omachain-testnet"):
        resolve_network("mainnet")


def test_networks_from_config_file(omareview_home: Path) -> None:
    (omareview_home / "config.toml").write_text(
        """
[networks.mychain]
chain-id = 8453
rpc-url = "http://127.0.0.1:8545"
eas-address = "0x4200000000000000000000000000000000000021"
deployment-block = 100

[networks.mychain.schemas]
user-review = "0x1111111111111111111111111111111111111111111111111111111111111111"
"""
    )
    net = resolve_network("mychain")
    assert net.chain_id == 8453
    assert net.deployment_block == 100
    assert net.schema_uid() == "0x" + "11" * 32
    with pytest.raises(ConfigError, match="no UID for schema 'key-binding'"):
        net.schema_uid("key-binding")


def test_config_file_errors_are_one_clear_message(omareview_home: Path) -> None:
    config = omareview_home / "config.toml"
    config.write_text('[networks.bad]\nrpc-url = "http://x"\neas-address = "nope"\n')
    with pytest.raises(ConfigError, match=r"\[networks.bad\] eas_address: Value error, 'nope' is not an address"):
        resolve_network("bad")
    config.write_text("[networks.bad\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        resolve_network("bad")
