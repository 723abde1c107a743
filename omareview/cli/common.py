"""Options several commands share: the signing key, and the network from the global options."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from omareview._devnet_state import read_state
from omareview.errors import ConfigError
from omareview.networks import DEVNET, Network
from omareview.signers import Signer, signer_from_environment, signer_from_key, signer_from_keystore

F = TypeVar("F", bound=Callable[..., Any])


def _account_options(func: F, prefix: str, dev_help: str, keystore_help: str) -> F:
    """`--{prefix}dev-account N` and `--{prefix}keystore FILE`: the same pair wherever a key signs."""
    func = click.option(
        f"--{prefix}dev-account", type=click.IntRange(0, 9), metavar="N", help=f"{dev_help} (devnet only)."
    )(func)
    return click.option(f"--{prefix}keystore", type=click.Path(path_type=Path, dir_okay=False), help=keystore_help)(
        func
    )


def key_options(func: F) -> F:
    """The signing key, for commands that attest."""
    return _account_options(
        func,
        "",
        "Sign with the devnet's dev account N",
        "Ethereum keystore JSON; password from OMAREVIEW_KEYSTORE_PASSWORD or a prompt.",
    )


def load_signer(network: Network, keystore: Path | None, dev_account: int | None) -> Signer:
    """--dev-account N on the devnet, else --keystore, else OMAREVIEW_PRIVATE_KEY."""
    if dev_account is not None:
        state = read_state()
        if network.name != DEVNET or state is None:
            raise ConfigError("--dev-account works only on a running devnet (--network devnet)")
        return signer_from_key(state.accounts[dev_account].private_key.get_secret_value())
    return signer_from_environment(keystore)


RELAYER_KEY_ENV = "OMAREVIEW_RELAYER_KEY"


def relayer_options(func: F) -> F:
    """The relayer's key, for commands that send others' delegated attestations."""
    return _account_options(
        func,
        "relayer-",
        "Relay from the devnet's dev account N",
        f"Keystore of the key that sends others' reviews (else {RELAYER_KEY_ENV}).",
    )


def load_relayer(network: Network, keystore: Path | None, dev_account: int | None) -> Signer | None:
    """The key that sends others' delegated attestations: --relayer-dev-account N on the devnet, else `keystore`,
    else $OMAREVIEW_RELAYER_KEY, else None."""
    if dev_account is not None:
        return load_signer(network, None, dev_account)
    if keystore is not None:
        return signer_from_keystore(keystore)
    key = os.environ.get(RELAYER_KEY_ENV, "").strip()
    return signer_from_key(key, what=RELAYER_KEY_ENV) if key else None


def chain_time(network: Network) -> int:
    """The chain's time (`RpcClient.next_block_time`), which a new attestation's own time will follow."""
    from omareview.eas.rpc import RpcClient

    return RpcClient(network.rpc_url).next_block_time()


def global_options(ctx: click.Context) -> Any:
    """The GlobalOptions object the top-level group stored."""
    return ctx.find_root().obj
