"""`omareview serve`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from omareview.cli.common import global_options, load_relayer, relayer_options
from omareview.cli.logs import LOG_FORMAT_OPTION, LogFormat, configure_logging
from omareview.errors import ToolchainError


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8480, show_default=True, help="Port to listen on.")
@relayer_options
@click.option(
    "--gas-per-hour", type=click.IntRange(0), default=20_000_000, show_default=True, help="The relayer's gas budget."
)
@click.option(
    "--requests-per-minute", type=click.IntRange(1), default=600, show_default=True, help="Per client address."
)
@click.option(
    "--writes-per-payer", type=click.IntRange(1), default=20, show_default=True, help="Writes per payer per hour."
)
@click.option(
    "--sync-interval", type=click.FloatRange(0.2), default=5.0, show_default=True, help="Seconds between syncs."
)
@click.option(
    "--gas-per-write",
    type=click.IntRange(100_000),
    default=3_000_000,
    show_default=True,
    help="The most gas one review may be estimated to take; costlier ones are refused unsent.",
)
@click.option("--no-sync", is_flag=True, help="Only read the store; `omareview index follow` keeps it current.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes serving one socket and one store; the budgets and rates are shared out between them.",
)
@click.option(
    "--proxy-headers/--no-proxy-headers",
    default=False,
    show_default=True,
    help="Take the client address from X-Forwarded-For (only from --forwarded-allow-ips).",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDRS",
    help="Comma-separated proxy addresses or networks whose forwarded headers are trusted.",
)
@click.option(
    "--max-connections", type=click.IntRange(16), default=512, show_default=True, help="Open connections per worker."
)
@click.option(
    "--header-timeout",
    type=click.FloatRange(1.0, 120.0),
    default=10.0,
    show_default=True,
    help="Seconds a client has to send a request's headers.",
)
@LOG_FORMAT_OPTION
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    relayer_keystore: Path | None,
    relayer_dev_account: int | None,
    gas_per_hour: int,
    requests_per_minute: int,
    writes_per_payer: int,
    sync_interval: float,
    gas_per_write: int,
    no_sync: bool,
    workers: int,
    proxy_headers: bool,
    forwarded_allow_ips: str,
    max_connections: int,
    header_timeout: float,
    log_format: LogFormat,
) -> None:
    """Run a review provider: a service's reviews as JSON and as a page, payment-backed writes, a relay.
    Without a relayer key it only reads."""
    try:
        from omareview.serve.app import create_app
        from omareview.serve.server import ServerOptions, run_server
    except ModuleNotFoundError as exc:
        raise ToolchainError(
            f"serving needs the `serve` extra ({exc.name} is missing): pip install 'omareview[serve]'",
            reason="serve-missing",
        ) from None
    from omareview.serve.provider import ProviderConfig, ReviewProvider

    network = global_options(ctx).resolve_network()
    relayer = load_relayer(network, relayer_keystore, relayer_dev_account)
    say = configure_logging(log_format)
    # Each worker keeps its own limits in memory, so each gets its share of them.
    config = ProviderConfig(
        network,
        relayer,
        store=global_options(ctx).store,
        syncs=not no_sync,
        gas_per_hour=gas_per_hour // workers,
        gas_per_write=gas_per_write,
        writes_per_payer_per_hour=max(writes_per_payer // workers, 1),
        sync_interval_s=sync_interval,
    )
    if not no_sync:
        say(f"syncing the {network.name} index before serving…")
        block, added, _ = ReviewProvider(config).sync()
        say(f"index at block {block} ({added} new review(s))")
    who = f"relaying from {relayer.address}" if relayer else "read-only (no relayer key)"
    many = f" in {workers} workers" if workers > 1 else ""
    say(f"serving reviews of {network.name} on http://{host}:{port}{many}, {who}")

    def make_app(worker: int) -> Any:
        # Worker 0 keeps the index synced; the others read the store it writes.
        syncs = not no_sync and worker == 0
        provider = ReviewProvider(dataclasses.replace(config, syncs=syncs))
        per_worker = max(requests_per_minute // workers, 1)
        return create_app(provider, requests_per_minute=per_worker, sync_in_background=syncs)

    options = ServerOptions(
        host=host,
        port=port,
        workers=workers,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        max_connections=max_connections,
        header_timeout_s=header_timeout,
        uvicorn_logging=log_format == "text",
    )
    run_server(make_app, options)
