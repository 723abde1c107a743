"""Which chain, EAS contract and schema UIDs a command works against.

Built in: `devnet` (read from the running devnet's state) and `omachain-testnet`. More come from
`[networks.<name>]` tables in `$OMAREVIEW_HOME/config.toml`. `--rpc-url`, `--eas-address` and
`--schema-uid` override whatever the named network says.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from omareview._hashing import is_address, to_checksum_address
from omareview._home import load_config
from omareview.errors import ConfigError, validation_problem
from omareview.schemas import USER_REVIEW, all_schemas

__all__ = [
    "DEFAULT_CONFIRMATIONS",
    "DEFAULT_NETWORK",
    "DEVNET",
    "OMACHAIN_TESTNET",
    "OMACHAIN_TESTNET_NETWORK",
    "Network",
    "PaymentNetwork",
    "network_names",
    "payment_networks",
    "resolve_network",
]

DEVNET = "devnet"
DEFAULT_CONFIRMATIONS = 12
OMACHAIN_TESTNET = "omachain-testnet"
DEFAULT_NETWORK = DEVNET


class Network(BaseModel):
    """Which chain, EAS contract and schema UIDs to work against.

    Attributes:
        name: the network's name (`devnet`, `omachain-testnet`, or one from `config.toml`).
        chain_id: its chain id (None: ask the node).
        rpc_url: its JSON-RPC URL.
        eas_address: the EAS contract.
        schema_registry_address: the SchemaRegistry contract, when known.
        indexer_address: the EAS Indexer contract, when there is one.
        deployment_block: where log scans start.
        schemas: schema name → UID.
        payment_finality: when a payment on this chain is final: `finalized` (the node's finalized block) or
            a number of confirmations.
        trust_anchors: OMATrust's trust-anchors document (a path or an HTTPS URL) whose approved issuers
            make Controller Witnesses count (None: no witness counts).
    """

    model_config = ConfigDict(
        defer_build=True, alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )

    name: str
    chain_id: int | None = Field(default=None, description="None: ask the node")
    rpc_url: str
    eas_address: str
    schema_registry_address: str | None = None
    indexer_address: str | None = None
    deployment_block: int = 0
    schemas: dict[str, str] = Field(default_factory=dict)
    payment_finality: Literal["finalized"] | int = "finalized"
    trust_anchors: str | None = None

    @field_validator("eas_address", "schema_registry_address", "indexer_address")
    @classmethod
    def _checksummed(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not is_address(value):
            raise ValueError(f"{value!r} is not an address")
        return to_checksum_address(value)

    def schema_uid(self, name: str = USER_REVIEW) -> str:
        try:
            return self.schemas[name]
        except KeyError:
            raise ConfigError(f"network {self.name} has no UID for schema {name!r}", reason="no-schema-uid") from None


def _omatrust_uids() -> dict[str, str]:
    return {schema.name: schema.uid for schema in all_schemas(include_legacy=False)}


OMACHAIN_TESTNET_NETWORK = Network(
    name=OMACHAIN_TESTNET,
    chain_id=66238,
    rpc_url="https://rpc.testnet.chain.oma3.org/",
    eas_address="0x8835AF90f1537777F52E482C8630cE4e947eCa32",
    schema_registry_address="0x7946127D2f517c8584FdBF801b82F54436EC6FC7",
    schemas=_omatrust_uids(),
    trust_anchors="https://api.omatrust.org/v1/trust-anchors",
)


def _configured_network(name: str, table: dict[str, JsonValue]) -> Network:
    fields: dict[str, object] = {key.replace("-", "_"): value for key, value in table.items()}
    fields.setdefault("schemas", _omatrust_uids())
    try:
        return Network.model_validate({**fields, "name": name})
    except ValidationError as exc:
        raise ConfigError(
            f"config.toml [networks.{name}] {validation_problem(exc)}", reason="bad-network-config"
        ) from exc


def network_names(home: Path | None = None) -> list[str]:
    configured = load_config(home).networks
    return [DEVNET, OMACHAIN_TESTNET, *sorted(configured)]


def resolve_network(
    name: str | None = None,
    *,
    rpc_url: str | None = None,
    eas_address: str | None = None,
    schema_uid: str | None = None,
    home: Path | None = None,
    devnet: Network | None = None,
) -> Network:
    """The network to use, after overrides. `"devnet"` is the devnet running for `home` (its state file names
    it; `devnet=` passes one explicitly), or, when none runs, the `rpc_url` and `eas_address` given; the
    library never starts a devnet itself.

    Raises ConfigError when the network cannot be known.
    """
    # Given values are checked first, so a malformed one is refused in words before any model sees it.
    if eas_address:
        if not is_address(eas_address):
            raise ConfigError(f"the EAS address {eas_address!r} is not an address", reason="bad-address")
        eas_address = to_checksum_address(eas_address)
    if schema_uid:
        schema_uid = _checked_uid(schema_uid)
    name = name or os.environ.get("OMAREVIEW_NETWORK") or DEFAULT_NETWORK
    configured = load_config(home).networks
    base: Network
    if name in configured:
        base = _configured_network(name, configured[name])
    elif name == OMACHAIN_TESTNET:
        base = OMACHAIN_TESTNET_NETWORK
    elif name == DEVNET:
        if devnet is None:
            from omareview._devnet_state import devnet_network

            devnet = devnet_network(home)
        if devnet is None and not (rpc_url and eas_address):
            raise ConfigError(
                "no devnet is running, and no RPC URL and EAS address were given", reason="devnet-not-running"
            )
        base = devnet or Network(
            name="custom", rpc_url=rpc_url or "", eas_address=eas_address or "", schemas=_omatrust_uids()
        )
    else:
        known = ", ".join(network_names(home))
        raise ConfigError(
            f"unknown network {name!r}; known: {known} (add more in config.toml)", reason="unknown-network"
        )
    overrides: dict[str, Any] = {"rpc_url": rpc_url} if rpc_url else {}
    if eas_address:
        overrides["eas_address"] = eas_address
    if schema_uid:
        overrides["schemas"] = {**base.schemas, USER_REVIEW: schema_uid}
    return base.model_copy(update=overrides)


def _checked_uid(uid: str) -> str:
    body = uid.removeprefix("0x")
    if len(body) != 64 or any(c not in "0123456789abcdefABCDEF" for c in body):
        raise ConfigError(f"the schema UID {uid!r} is not a 32-byte hex UID", reason="bad-schema-uid")
    return "0x" + body.lower()


@dataclass(frozen=True)
class PaymentNetwork:
    """Where and how to read one payment network.

    Parameters:
        rpc_url: its JSON-RPC endpoint.
        finality: `finalized` (the node's finalized block, with a fallback of `DEFAULT_CONFIRMATIONS` where
            the node has none) or a number of confirmations.
    """

    rpc_url: str
    finality: Literal["finalized"] | int = "finalized"


def payment_networks(network: Network, home: Path | None = None) -> dict[str, PaymentNetwork]:
    """Where payments are checked: the review network's own chain, and every
    `[payment-networks."<CAIP-2>"]` table of `config.toml` (`rpc-url`, optional `confirmations`)."""
    found: dict[str, PaymentNetwork] = {}
    if network.chain_id is not None:
        found[f"eip155:{network.chain_id}"] = PaymentNetwork(network.rpc_url, network.payment_finality)
    for name, table in load_config(home).payment_networks.items():
        rpc_url = table.get("rpc-url") if isinstance(table, dict) else None
        if not isinstance(table, dict) or not isinstance(rpc_url, str):
            raise ConfigError(f'config.toml [payment-networks."{name}"] needs rpc-url', reason="bad-network-config")
        unknown = set(table) - {"rpc-url", "confirmations"}
        if unknown:
            raise ConfigError(
                f'config.toml [payment-networks."{name}"]: unknown key {sorted(unknown)[0]!r}',
                reason="bad-network-config",
            )
        confirmations = table.get("confirmations")
        if confirmations is not None and (not isinstance(confirmations, int) or confirmations < 1):
            raise ConfigError(
                f'config.toml [payment-networks."{name}"] confirmations must be a whole number ≥ 1',
                reason="bad-network-config",
            )
        found[name] = PaymentNetwork(rpc_url, confirmations if confirmations is not None else "finalized")
    return found
