"""`omareview mcp`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from omareview.cli.common import global_options, key_options, load_signer
from omareview.cli.logs import LOG_FORMAT_OPTION, LogFormat, configure_logging
from omareview.errors import ConfigError, ToolchainError


@click.command("mcp")
@click.option(
    "--transport",
    type=click.Choice(["stdio", "streamable-http"]),
    default="stdio",
    show_default=True,
    help="How clients connect.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address for streamable HTTP.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8765, show_default=True, help="Port for streamable HTTP."
)
@click.option("--allow-submit", is_flag=True, help="Offer submit_review (needs a signing key); off by default.")
@click.option("--policy", "policy_file", type=click.Path(path_type=Path, dir_okay=False), help="Payment policy TOML.")
@key_options
@LOG_FORMAT_OPTION
@click.pass_context
def mcp(
    ctx: click.Context,
    transport: Any,
    host: str,
    port: int,
    allow_submit: bool,
    policy_file: Path | None,
    keystore: Path | None,
    dev_account: int | None,
    log_format: LogFormat,
) -> None:
    """Serve omareview's tools to an MCP client: check a service, read its reviews, review a payment."""
    try:
        from omareview.mcp.server import create_server, default_tools
    except ModuleNotFoundError as exc:
        raise ToolchainError(
            f"the MCP server needs the `mcp` package ({exc.name} is missing): pip install 'omareview[mcp]'",
            reason="mcp-missing",
        ) from None
    from omareview.eas.client import EasClient
    from omareview.gate.policy import load_policy
    from omareview.index.query import ReviewIndex

    try:
        network = global_options(ctx).resolve_network()
    except ConfigError:
        network = None
    index = ReviewIndex(network, store=global_options(ctx).store) if network is not None else None
    signer = load_signer(network, keystore, dev_account) if allow_submit and network is not None else None
    if allow_submit and signer is None:
        raise ConfigError("submitting needs a review network and a signing key", reason="no-signing-key")
    client = EasClient(network, signer) if signer is not None and network is not None else None
    say = configure_logging(log_format)
    tools = default_tools(index, load_policy(policy_file), client=client, signer=signer, allow_submit=allow_submit)
    where = f"on http://{host}:{port}/mcp" if transport == "streamable-http" else "on stdio"
    say(f"serving omareview's MCP tools {where}{', submitting allowed' if allow_submit else ''}")
    create_server(tools, host=host, port=port).run(transport)
