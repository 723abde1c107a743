"""`omareview index sync | follow` and `omareview reviews SUBJECT`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

from omareview.cli.common import global_options
from omareview.cli.logs import LOG_FORMAT_OPTION, LogFormat, configure_logging
from omareview.cli.output import JSON_OPTION, emit, emit_model, note, when
from omareview.errors import ChainError, ToolchainError
from omareview.index import JudgeContext, ReviewIndex
from omareview.index.context import LEVELS, NOT_COUNTED
from omareview.index.query import ReviewFilters, merged_reviews

if TYPE_CHECKING:
    from omareview.index import SubjectReviews, SyncResult


def _progress_bar() -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A progress callback drawing a bar on a terminal's stderr (nothing when stderr is not a terminal)."""
    if not sys.stderr.isatty():
        return (lambda _done, _total: None), (lambda: None)
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            state["start"] = done
            state["bar"] = click.progressbar(length=max(total - done, 1), label="scanning blocks", file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state.get("at", state["start"]))
        state["at"] = done

    def close() -> None:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)

    return update, close


def _sync(index: ReviewIndex) -> SyncResult:
    update, close = _progress_bar()
    try:
        return index.sync(update)
    finally:
        close()


def _open(ctx: click.Context, authorize: bool = True) -> ReviewIndex:
    options = global_options(ctx)
    return ReviewIndex(options.resolve_network(), judge_context=JudgeContext(authorize=authorize), store=options.store)


@click.group()
def index() -> None:
    """The local index of User Reviews."""


@index.command()
@JSON_OPTION
@click.pass_context
def sync(ctx: click.Context, as_json: bool) -> None:
    """Read new Attested events into the local index (the whole history on first use)."""
    result = _sync(_open(ctx))
    if result.from_block > result.to_block:
        line = f"already at block {result.to_block}: {result.added} new, {result.removed} dropped"
    else:
        line = f"indexed blocks {result.from_block}-{result.to_block}: {result.added} new, {result.removed} dropped"
    emit(result.to_json(), as_json, lambda: [line])


@index.command()
@click.option("--interval", type=click.FloatRange(0.1), default=2.0, show_default=True, help="Seconds between rounds.")
@click.option(
    "--metrics-port", type=click.IntRange(1, 65535), help="Serve Prometheus metrics (lag, block) on this port."
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Address for the metrics.")
@LOG_FORMAT_OPTION
@click.pass_context
def follow(
    ctx: click.Context, interval: float, metrics_port: int | None, metrics_host: str, log_format: LogFormat
) -> None:
    """Keep the index current until stopped (SIGTERM or Ctrl-C): one writer per store, any number of readers."""
    import signal
    import threading

    from omareview.index.follow import Follower

    say = configure_logging(log_format)
    index_ = _open(ctx)
    on_round = None
    if metrics_port is not None:
        try:
            from prometheus_client import start_http_server

            from omareview.serve.metrics import Metrics
        except ModuleNotFoundError as exc:
            raise ToolchainError(
                f"metrics need the `serve` extra ({exc.name} is missing): pip install 'omareview[serve]'",
                reason="serve-missing",
            ) from None
        metrics = Metrics(index_)
        start_http_server(metrics_port, addr=metrics_host, registry=metrics.registry)
        on_round = metrics.observe_round
        say(f"metrics on http://{metrics_host}:{metrics_port}/metrics")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Follower(index_, interval_s=interval, progress=say, on_round=on_round).run(stop)
    say("stopped")


def _when(timestamp: int) -> str:
    return when(timestamp, "%Y-%m-%d %H:%M")


def _table(result: SubjectReviews) -> Iterator[str]:
    yield f"{result.subject}  (recipient {result.recipient})"
    average = f"average {result.average_rating:.2f}/5" if result.average_rating is not None else "no rating yet"
    floor = "paid and verified" if result.average_from == "verified" else f"{result.average_from} and better"
    rule = f"{floor}, not refunded, not self-dealing"
    counted = f"over the {result.counted} counted ({rule})" if result.counted else f"(none counted: {rule})"
    yield f"{result.count} review(s), {average} {counted}"
    yield "  " + " · ".join(f"{level} {n}" for level, n in result.by_level.items())
    for star in ("5", "4", "3", "2", "1"):
        count = result.histogram[star]
        yield f"  {star}★ {'█' * min(count, 40)} {count}"
    if not result.reviews:
        return
    yield ""
    yield f"{'LEVEL':<11} {'RATING':<6} {'ATTESTER':<13} {'WHEN (UTC)':<17} REVIEW"
    for review in result.reviews:
        body = (review.review_body or "").replace("\n", " ")
        who = f"{review.attester[:6]}…{review.attester[-4:]}"
        yield f"{review.level:<11} {review.rating_value or '?':<6} {who:<13} {_when(review.time):<17} {body[:60]}"
        payment = review.evidence.payment if review.evidence is not None else None
        if review.level == "paid" and payment is not None:
            yield f"{'':<11} paid {payment.amount} of {payment.asset} to {payment.pay_to}"
        if review.not_counted_because == "below-floor":
            yield f"{'':<11} not counted: {review.level}" + (f" ({review.reason})" if review.reason else "")
        elif review.not_counted_because is not None:
            yield f"{'':<11} not counted: {NOT_COUNTED[review.not_counted_because]}"
        for response in review.responses:
            if response.counted:
                yield f"{'':<11} ↳ the service answered ({_when(response.time)}): {response.response_body[:60]}"
            else:
                who = f"{response.responder[:6]}…{response.responder[-4:]}"
                yield f"{'':<11} ↳ {who}, not the service, answered: {response.response_body[:50]}"
    if result.total > len(result.reviews):
        yield f"({len(result.reviews)} of {result.total} shown)"


@click.command()
@click.argument("subject", metavar="SUBJECT")
@click.option("--no-sync", is_flag=True, help="Use the index as it is; do not read the chain first.")
@click.option(
    "--min-level",
    type=click.Choice(LEVELS),
    help="List only reviews at this level or better.",
)
@click.option(
    "--average-from",
    type=click.Choice(LEVELS[:-1]),
    default="verified",
    show_default=True,
    help="Average the reviews at this level or better (signed reviews can be forged by anyone).",
)
@click.option("--since", type=click.IntRange(min=0), metavar="UNIX_TIME", help="List only reviews written since then.")
@click.option("--attester", metavar="ADDRESS", help="List only this reviewer's review.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many reviews.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many reviews (pagination).")
@click.option("--rejudge", is_flag=True, help="Judge every proof again instead of using cached levels.")
@click.option(
    "--count-self-dealing",
    is_flag=True,
    help="Count reviews the service could have bought itself (paid by its payTo, a controller, a wallet it funded).",
)
@click.option("--no-authorize", is_flag=True, help="Judge without signer-authorization look-ups (offline).")
@click.option(
    "--also-network",
    "also_networks",
    multiple=True,
    metavar="NAME",
    help="Merge in the subject's reviews on this network too (repeatable).",
)
@JSON_OPTION
@click.pass_context
def reviews(
    ctx: click.Context,
    subject: str,
    no_sync: bool,
    min_level: Any,
    average_from: Any,
    since: int | None,
    attester: str | None,
    limit: int | None,
    offset: int,
    rejudge: bool,
    count_self_dealing: bool,
    no_authorize: bool,
    also_networks: tuple[str, ...],
    as_json: bool,
) -> None:
    """The reviews of SUBJECT (a DID, or a service URL), latest per reviewer, each with its proof's level."""
    indexes = [_open(ctx, authorize=not no_authorize)]
    options = global_options(ctx)
    for name in also_networks:
        judge = JudgeContext(authorize=not no_authorize)
        indexes.append(ReviewIndex(options.resolve_network(name), judge_context=judge, store=options.store))
    for index in indexes if not no_sync else []:
        try:
            _sync(index)
        except ChainError as exc:
            if index.synced_to() is None:
                raise
            synced = index.synced_to()
            note(f"warning: could not sync ({exc}); showing the index of {index.network.name} as of block {synced}")
    filters = ReviewFilters(
        min_level=min_level,
        since=since,
        attester=attester,
        limit=limit,
        offset=offset,
        rejudge=rejudge,
        average_from=average_from,
        count_self_dealing=count_self_dealing,
    )
    result = (
        indexes[0].reviews(subject, **filters) if len(indexes) == 1 else merged_reviews(indexes, subject, **filters)
    )
    emit_model(result, as_json, _table)
