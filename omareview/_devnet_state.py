"""The running devnet's state file, `$OMAREVIEW_HOME/devnet/state.json`: what every other command reads to
find the devnet (pid, RPC URL, addresses, schema UIDs, dev accounts). A state whose process is gone is stale
and cleared on sight. Apart from `node`, which runs Anvil, so that reading it loads no process or socket code.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_serializer
from pydantic.alias_generators import to_camel

from omareview._home import home_dir
from omareview.networks import DEVNET, Network

__all__ = [
    "WITNESS_ACCOUNT",
    "DevAccount",
    "DevnetState",
    "PublicDevnetState",
    "devnet_network",
    "network_of",
    "process_alive",
    "read_state",
    "state_file",
    "write_state",
]


class DevAccount(BaseModel):
    """One of Anvil's funded dev accounts. The key is Anvil's well-known test key, still never shown.

    Attributes:
        address: the account's checksummed address.
        private_key: its key, kept secret in output.
    """

    model_config = ConfigDict(defer_build=True, alias_generator=to_camel, populate_by_name=True, frozen=True)

    address: str
    private_key: SecretStr

    @field_serializer("private_key", when_used="json")
    def _reveal_for_state_file(self, key: SecretStr) -> str:
        return key.get_secret_value()


class _DevnetFacts(BaseModel):
    model_config = ConfigDict(defer_build=True, alias_generator=to_camel, populate_by_name=True, frozen=True)

    pid: int
    rpc_url: str
    chain_id: int
    eas_address: str
    schema_registry_address: str
    indexer_address: str
    token_address: str
    deployment_block: int
    schemas: dict[str, str]
    log_file: str
    started_at: int
    detached: bool
    trust_anchors: str | None = None


class PublicDevnetState(_DevnetFacts):
    """What `devnet up/status --json` prints: the state with each dev account by its address only.

    Attributes:
        accounts: the funded dev accounts' addresses (the others as in `DevnetState`).
    """

    accounts: list[str]


class DevnetState(_DevnetFacts):
    """What a running devnet records in `$OMAREVIEW_HOME/devnet/state.json` for every other command.

    Attributes:
        pid: Anvil's process id.
        rpc_url: its JSON-RPC URL on loopback.
        chain_id: its chain id.
        eas_address: the EAS contract.
        schema_registry_address: the SchemaRegistry contract.
        indexer_address: the EAS Indexer contract.
        token_address: the EIP-3009 TestUSDC token.
        deployment_block: the block EAS was deployed in (where scans start).
        schemas: schema name → UID, as registered.
        accounts: the funded dev accounts.
        log_file: Anvil's log.
        started_at: Unix time it started.
        detached: whether it runs in the background.
        trust_anchors: the trust anchors file the devnet's networks read.
    """

    accounts: list[DevAccount]

    def public(self) -> PublicDevnetState:
        """Everything but the account keys."""
        facts = {name: getattr(self, name) for name in _DevnetFacts.model_fields}
        return PublicDevnetState(**facts, accounts=[account.address for account in self.accounts])


def state_file(home: Path | None = None) -> Path:
    return (home or home_dir()) / "devnet" / "state.json"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def read_state(home: Path | None = None) -> DevnetState | None:
    """The running devnet's state, or None. A stale or unreadable state file is removed."""
    path = state_file(home)
    try:
        state = DevnetState.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValidationError):
        path.unlink(missing_ok=True)
        return None
    if not process_alive(state.pid):
        path.unlink(missing_ok=True)
        return None
    return state


WITNESS_ACCOUNT = 8


def network_of(state: DevnetState) -> Network:
    """The network of a running devnet, from its state."""
    return Network(
        name=DEVNET,
        chain_id=state.chain_id,
        rpc_url=state.rpc_url,
        eas_address=state.eas_address,
        schema_registry_address=state.schema_registry_address,
        indexer_address=state.indexer_address,
        deployment_block=state.deployment_block,
        schemas=state.schemas,
        payment_finality=1,
        trust_anchors=state.trust_anchors,
    )


def devnet_network(home: Path | None = None) -> Network | None:
    """The running devnet's network, or None when no devnet is running (pass it to `resolve_network`)."""
    state = read_state(home)
    return network_of(state) if state is not None else None


def write_state(state: DevnetState, home: Path | None) -> None:
    path = state_file(home)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(state.model_dump_json(by_alias=True, indent=2))
    tmp.replace(path)
