"""The command group, its global options, and the mapping from errors to exit codes and one-line messages."""

from __future__ import annotations

import gc
import importlib
import sys
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from omareview._version import __version__
from omareview.cli.output import fail
from omareview.errors import (
    ChainError,
    ConfigError,
    DevnetError,
    InputError,
    OmaReviewError,
    Reason,
    ServiceError,
    ToolchainError,
)

if TYPE_CHECKING:
    from omareview.networks import Network

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130

#: Exit code per error class, most specific first (SPEC §3: 1 refused, 2 usage, 3 chain or network).
EXIT_CODES: tuple[tuple[type[OmaReviewError], int], ...] = (
    (InputError, EXIT_REFUSED),
    (ConfigError, EXIT_USAGE),
    (ChainError, EXIT_UNREACHABLE),
    (ServiceError, EXIT_UNREACHABLE),
    (ToolchainError, EXIT_UNREACHABLE),
    (DevnetError, EXIT_UNREACHABLE),
)

#: What the command line adds to a library error, by reason: the flag or command that fixes it (each with
#: the punctuation that joins it to the message).
HINTS: dict[Reason, str] = {
    "devnet-not-running": (
        "; start one with `omareview devnet up --detach`, or choose a network with --network "
        "(or --rpc-url and --eas-address)"
    ),
    "devnet-running": "; stop it with `omareview devnet down`",
    "port-in-use": "; pick another with --port, or omit it for a free one",
    "no-schema-uid": "; pass --schema-uid",
    "no-signing-key": ": set OMAREVIEW_PRIVATE_KEY, or pass --keystore FILE (or --dev-account N)",
    "already-reviewed": "; pass --allow-duplicate to review it again",
    "toolchain-missing": "; run `omareview toolchain install`",
    "provider-not-allowed": "; add it to review_providers in policy.toml (or pass --policy FILE)",
}


def exit_code(exc: OmaReviewError) -> int:
    """The exit code of a library error, by its class."""
    return next((code for cls, code in EXIT_CODES if isinstance(exc, cls)), EXIT_REFUSED)


def error_message(exc: OmaReviewError) -> str:
    """The library's message, with the command-line hint for its reason when there is one."""
    hint = HINTS.get(exc.reason)
    return f"{exc}{hint}" if hint else str(exc)


@dataclass
class GlobalOptions:
    network: str | None
    rpc_url: str | None
    eas_address: str | None
    schema_uid: str | None
    verbose: bool
    store: str | None = None

    def resolve_network(self, name: str | None = None) -> Network:
        """The network of the global options, or the one named (without the overrides)."""
        from omareview.networks import resolve_network

        if name is not None:
            return resolve_network(name)
        return resolve_network(
            self.network, rpc_url=self.rpc_url, eas_address=self.eas_address, schema_uid=self.schema_uid
        )


#: Each command: where it lives, and the one line `--help` shows for it (so listing commands imports none
#: of them; a test holds these lines equal to the commands' own).
COMMANDS: dict[str, tuple[str, str]] = {
    "devnet": (
        "omareview.cli.devnet_cmd:devnet",
        "The embedded devnet: Anvil with EAS and the OMATrust schemas, on...",
    ),
    "subject": (
        "omareview.cli.subject_cmd:subject",
        "Normalize a service URL or DID to its subject DID, DID hash and EAS...",
    ),
    "receipt": ("omareview.cli.verify_cmd:receipt", "Signed x402 receipts."),
    "offer": ("omareview.cli.verify_cmd:offer", "Signed x402 offers."),
    "review": ("omareview.cli.review_cmd:review", "Write OMATrust User Reviews backed by x402 receipts."),
    "index": ("omareview.cli.index_cmd:index", "The local index of User Reviews."),
    "reviews": ("omareview.cli.index_cmd:reviews", "The reviews of SUBJECT (a DID, or a service URL), latest per..."),
    "outbox": (
        "omareview.cli.outbox_cmd:outbox",
        "The local outbox of captured receipts and the reviews made from them.",
    ),
    "identity": (
        "omareview.cli.identity_cmd:identity",
        "OMATrust identity attestations: key bindings, linked wallets,...",
    ),
    "respond": (
        "omareview.cli.identity_cmd:respond",
        "Answer the User Review REVIEW_UID as the reviewed service (a User...",
    ),
    "check": ("omareview.cli.check_cmd:check", "Fetch URL (paying nothing) and show whether the gate would pay its..."),
    "mcp": ("omareview.cli.mcp_cmd:mcp", "Serve omareview's tools to an MCP client: check a service, read its..."),
    "serve": ("omareview.cli.serve_cmd:serve", "Run a review provider: a service's reviews as JSON and as a page,..."),
    "config": (
        "omareview.cli.config_cmd:config",
        "Show where omareview keeps its state and the configuration in...",
    ),
    "toolchain": (
        "omareview.cli.toolchain_cmd:toolchain",
        "The pinned npm toolchain the devnet runs on (Anvil, the EAS...",
    ),
}


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs, so each command starts quickly."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, _, attribute = entry[0].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--network", metavar="NAME", help="devnet (default), omachain-testnet, or a name from config.toml.")
@click.option("--rpc-url", metavar="URL", help="JSON-RPC endpoint; overrides the network's.")
@click.option("--eas-address", metavar="ADDRESS", help="EAS contract; overrides the network's.")
@click.option("--schema-uid", metavar="UID", help="User Review schema UID; overrides the network's.")
@click.option(
    "--store",
    metavar="URL",
    help="The index's store: postgresql://… (else OMAREVIEW_STORE, or store in config.toml; default SQLite).",
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and more detail on errors.")
@click.version_option(version=__version__, prog_name="omareview")
@click.pass_context
def cli(
    ctx: click.Context,
    network: str | None,
    rpc_url: str | None,
    eas_address: str | None,
    schema_uid: str | None,
    store: str | None,
    verbose: bool,
) -> None:
    """Verified-purchase reviews for x402 services: OMATrust User Reviews on EAS, backed by signed receipts."""
    ctx.obj = GlobalOptions(network, rpc_url, eas_address, schema_uid, verbose, store)


def _verbose(argv: list[str]) -> bool:
    return "-v" in argv or "--verbose" in argv


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns every failure into `error: …` on stderr and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    code = run(args)
    # The process ends here: its objects are left to the operating system rather than walked by the final
    # collection (about 20 ms of every command's exit once pydantic's schemas are loaded). Everything the
    # command wrote is committed and flushed by now.
    gc.freeze()
    sys.exit(code)


def run(args: list[str]) -> int:
    try:
        result: Any = cli.main(args=args, prog_name="omareview", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        fail(exc.format_message() + hint)
        return EXIT_USAGE
    except click.exceptions.Abort:
        fail("interrupted")
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        fail(exc.format_message())
        return exc.exit_code
    except OmaReviewError as exc:
        if _verbose(args):
            traceback.print_exc()
        fail(error_message(exc))
        return exit_code(exc)
    except KeyboardInterrupt:
        fail("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        if _verbose(args):
            traceback.print_exc()
        fail(f"unexpected {type(exc).__name__}: {exc} (run with -v for a traceback)")
        return 1
    return result if isinstance(result, int) else 0
