"""The command group, its global options, and the mapping from errors to exit codes and one-line messages."""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from typing import Any

import click

from omareview.cli.check_cmd import check
from omareview.cli.devnet_cmd import devnet
from omareview.cli.index_cmd import index, reviews
from omareview.cli.outbox_cmd import outbox
from omareview.cli.output import fail
from omareview.cli.review_cmd import review
from omareview.cli.subject_cmd import subject
from omareview.cli.verify_cmd import offer, receipt
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


cli.add_command(devnet)
cli.add_command(subject)
cli.add_command(receipt)
cli.add_command(offer)
cli.add_command(review)
cli.add_command(index)
cli.add_command(reviews)
cli.add_command(outbox)
cli.add_command(check)


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
