"""`omareview config`: where omareview keeps its state and the configuration in effect."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from omareview.cli.app import GlobalOptions
from omareview.cli.common import global_options
from omareview.cli.output import JSON_OPTION, emit
from omareview.eas.rpc import display_url
from omareview.errors import ConfigError

if TYPE_CHECKING:
    from omareview.networks import Network


def _resolved(options: GlobalOptions, name: str | None = None) -> Network | None:
    """The network named (else the global options' own), or None when it is the devnet and none runs."""
    try:
        return options.resolve_network(name)
    except ConfigError as exc:
        if exc.reason == "devnet-not-running":
            return None
        raise


def _shown(network: Network | None) -> dict[str, Any] | None:
    """A network as it may be shown: its RPC URL by scheme and host only (a path or a user often carries an
    API key)."""
    if network is None:
        return None
    shown: dict[str, Any] = network.model_dump(mode="json", by_alias=True)
    return {**shown, "rpcUrl": display_url(network.rpc_url)}


@click.command("config")
@JSON_OPTION
@click.pass_context
def config(ctx: click.Context, as_json: bool) -> None:
    """Show where omareview keeps its state and the configuration in effect: every network (config.toml's
    checked), the payment networks, the store and the payment policy."""
    from omareview._home import CONFIG_FILE_NAME, home_dir
    from omareview.gate.policy import POLICY_FILE, load_policy
    from omareview.index._engines import store_url
    from omareview.networks import DEVNET, network_names, payment_networks

    home = home_dir()
    options = global_options(ctx)
    networks = {name: _shown(_resolved(options, name)) for name in network_names()}
    chosen = options.network or os.environ.get("OMAREVIEW_NETWORK") or DEVNET
    current = _resolved(options)
    payments = payment_networks(current) if current is not None else {}
    store = store_url(options.store)
    policy_file = home / POLICY_FILE
    document = {
        "home": str(home),
        "configFile": str(home / CONFIG_FILE_NAME) if (home / CONFIG_FILE_NAME).exists() else None,
        "network": chosen,
        "networks": networks,
        "paymentNetworks": {
            name: {"rpcUrl": display_url(p.rpc_url), "finality": p.finality} for name, p in payments.items()
        },
        "store": display_url(store) if store else None,
        "policyFile": str(policy_file) if policy_file.exists() else None,
        "policy": load_policy().model_dump(mode="json"),
    }

    def human() -> Iterator[str]:
        yield f"home         {home}"
        yield f"config file  {document['configFile'] or '(none: built-in networks only)'}"
        yield f"network      {chosen}" + ("" if current is not None else " (not running)")
        for name, shown in networks.items():
            yield f"  {name:<18} " + (f"chain {shown['chainId']}, {shown['rpcUrl']}" if shown else "not running")
        for name, payment in payments.items():
            yield f"payments on  {name}: {display_url(payment.rpc_url)} ({payment.finality})"
        yield f"store        {document['store'] or 'SQLite under ' + str(home / 'index')}"
        yield f"policy       {document['policyFile'] or '(built-in)'}"

    emit(document, as_json, human)
