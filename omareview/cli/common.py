"""Options several commands share: the signing key, and the network from the global options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from omareview.devnet.node import read_state
from omareview.errors import ConfigError
from omareview.keys import Signer, signer_from_environment, signer_from_key
from omareview.networks import DEVNET, Network

F = TypeVar("F", bound=Callable[..., Any])


def key_options(func: F) -> F:
    func = click.option(
        "--dev-account",
        type=click.IntRange(0, 9),
        metavar="N",
        help="Sign with the devnet's dev account N (devnet only).",
    )(func)
    return click.option(
        "--keystore",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Ethereum keystore JSON; password from OMAREVIEW_KEYSTORE_PASSWORD or a prompt.",
    )(func)


def load_signer(network: Network, keystore: Path | None, dev_account: int | None) -> Signer:
    """--dev-account N on the devnet, else --keystore, else OMAREVIEW_PRIVATE_KEY."""
    if dev_account is not None:
        state = read_state()
        if network.name != DEVNET or state is None:
            raise ConfigError("--dev-account works only on a running devnet (--network devnet)")
        return signer_from_key(state.accounts[dev_account].private_key.get_secret_value())
    return signer_from_environment(keystore)


def global_options(ctx: click.Context) -> Any:
    """The GlobalOptions object the top-level group stored."""
    return ctx.find_root().obj
