"""`omareview serve`."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from omareview.cli.common import RELAYER_KEY_ENV, global_options, load_relayer, load_signer
from omareview.errors import ToolchainError
from omareview.keys import Signer


def _relayer(ctx: click.Context, keystore: Path | None, dev_account: int | None) -> Signer | None:
    if dev_account is not None:
        return load_signer(global_options(ctx).resolve_network(), None, dev_account)
    return load_relayer(keystore)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8480, show_default=True, help="Port to listen on.")
@click.option(
    "--relayer-keystore",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"Keystore of the key that sends reviews (else {RELAYER_KEY_ENV}; neither: read-only).",
)
@click.option("--relayer-dev-account", type=click.IntRange(0, 9), metavar="N", help="Relay from devnet dev account N.")
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
@click.option("--no-sync", is_flag=True, help="Only read the store; `omareview index follow` keeps it current.")
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
    no_sync: bool,
) -> None:
    """Run a review provider: a service's reviews as JSON and as a page, payment-backed writes, a relay."""
    try:
        import uvicorn

        from omareview.serve.app import create_app
    except ModuleNotFoundError as exc:
        raise ToolchainError(
            f"serving needs the `serve` extra ({exc.name} is missing): pip install 'omareview[serve]'",
            reason="serve-missing",
        ) from None
    from omareview.serve.provider import ProviderConfig, ReviewProvider

    network = global_options(ctx).resolve_network()
    relayer = _relayer(ctx, relayer_keystore, relayer_dev_account)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    config = ProviderConfig(
        network,
        relayer,
        store=global_options(ctx).store,
        syncs=not no_sync,
        gas_per_hour=gas_per_hour,
        writes_per_payer_per_hour=writes_per_payer,
        sync_interval_s=sync_interval,
    )
    provider = ReviewProvider(config)
    if not no_sync:
        click.echo(f"syncing the {network.name} index before serving…", err=True)
        block, added, _ = provider.sync()
        click.echo(f"index at block {block} ({added} new review(s))", err=True)
    who = f"relaying from {relayer.address}" if relayer else "read-only (no relayer key)"
    click.echo(f"serving reviews of {network.name} on http://{host}:{port}, {who}", err=True)
    app = create_app(provider, requests_per_minute=requests_per_minute, sync_in_background=not no_sync)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=True)
