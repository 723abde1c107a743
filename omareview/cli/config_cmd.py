"""`omareview config`: where omareview keeps its state and the configuration in effect."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import click

from omareview.cli.common import global_options
from omareview.cli.output import JSON_OPTION, emit
from omareview.errors import ConfigError


def _network(name: str) -> dict[str, Any] | None:
    from omareview.networks import resolve_network

    try:
        shown: dict[str, Any] = resolve_network(name).model_dump(mode="json", by_alias=True)
    except ConfigError as exc:
        if exc.reason == "devnet-not-running":
            return None
        raise
    return shown


@click.command("config")
@JSON_OPTION
@click.pass_context
def config(ctx: click.Context, as_json: bool) -> None:
    """Show where omareview keeps its state and the configuration in effect: every network (config.toml's
    checked), the payment networks, the store and the payment policy."""
    from omareview._home import CONFIG_FILE_NAME, home_dir, load_config
    from omareview.gate.policy import POLICY_FILE, load_policy
    from omareview.index._engines import store_url
    from omareview.networks import network_names, payment_networks

    home = home_dir()
    options = global_options(ctx)
    load_config()
    networks = {name: _network(name) for name in network_names()}
    chosen = options.network or os.environ.get("OMAREVIEW_NETWORK") or "devnet"
    current = options.resolve_network() if networks.get(chosen) is not None or chosen != "devnet" else None
    payments = payment_networks(current) if current is not None else {}
    store = store_url(options.store)
    policy_file = home / POLICY_FILE
    document = {
        "home": str(home),
        "configFile": str(home / CONFIG_FILE_NAME) if (home / CONFIG_FILE_NAME).exists() else None,
        "network": chosen,
        "networks": networks,
        "paymentNetworks": {name: {"rpcUrl": p.rpc_url, "finality": p.finality} for name, p in payments.items()},
        "store": _redacted(store) if store else None,
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
            yield f"payments on  {name}: {payment.rpc_url} ({payment.finality})"
        yield f"store        {document['store'] or 'SQLite under ' + str(home / 'index')}"
        yield f"policy       {document['policyFile'] or '(built-in)'}"

    emit(document, as_json, human)


def _redacted(url: str) -> str:
    """A store URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
