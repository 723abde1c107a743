"""The command group, its global options, and the mapping from errors to exit codes and one-line messages."""

from __future__ import annotations

import importlib
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import click

from omareview.cli.output import fail
from omareview.errors import OmaReviewError
from omareview.networks import Network, resolve_network

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


@dataclass
class GlobalOptions:
    network: str | None
    rpc_url: str | None
    eas_address: str | None
    schema_uid: str | None
    verbose: bool

    def resolve_network(self) -> Network:
        return resolve_network(
            self.network, rpc_url=self.rpc_url, eas_address=self.eas_address, schema_uid=self.schema_uid
        )


COMMANDS = {
    "devnet": "omareview.cli.devnet_cmd:devnet",
    "subject": "omareview.cli.subject_cmd:subject",
    "receipt": "omareview.cli.verify_cmd:receipt",
    "offer": "omareview.cli.verify_cmd:offer",
    "review": "omareview.cli.review_cmd:review",
    "index": "omareview.cli.index_cmd:index",
    "reviews": "omareview.cli.index_cmd:reviews",
    "outbox": "omareview.cli.outbox_cmd:outbox",
    "check": "omareview.cli.check_cmd:check",
}


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs, so each command starts quickly."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--network", metavar="NAME", help="devnet (default), omachain-testnet, or a name from config.toml.")
@click.option("--rpc-url", metavar="URL", help="JSON-RPC endpoint; overrides the network's.")
@click.option("--eas-address", metavar="ADDRESS", help="EAS contract; overrides the network's.")
@click.option("--schema-uid", metavar="UID", help="User Review schema UID; overrides the network's.")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and more detail on errors.")
@click.version_option(package_name="omareview")
@click.pass_context
def cli(
    ctx: click.Context,
    network: str | None,
    rpc_url: str | None,
    eas_address: str | None,
    schema_uid: str | None,
    verbose: bool,
) -> None:
    """Verified-purchase reviews for x402 services: OMATrust User Reviews on EAS, backed by signed receipts."""
    ctx.obj = GlobalOptions(network, rpc_url, eas_address, schema_uid, verbose)


def _verbose(argv: list[str]) -> bool:
    return "-v" in argv or "--verbose" in argv


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns every failure into `error: …` on stderr and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    code = run(args)
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
        fail(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        fail("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        if _verbose(args):
            traceback.print_exc()
        fail(f"unexpected {type(exc).__name__}: {exc} (run with -v for a traceback)")
        return 1
    return result if isinstance(result, int) else 0
