"""`omareview check URL`: what the gate would decide about paying this URL. Pays nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from omareview._http import fetch_user_url
from omareview.cli.common import global_options
from omareview.cli.output import JSON_OPTION, emit
from omareview.errors import ConfigError
from omareview.gate import Decision, Gate, load_policy
from omareview.index import JudgeContext, ReviewIndex


def _lines(decision: Decision) -> Iterator[str]:
    head = decision.action.upper()
    if decision.limit:
        limit = decision.limit
        head += f" up to {limit.amount} of {limit.network}/{limit.asset} (tier {decision.tier})"
    yield f"{head}  {decision.url}"
    yield f"  subject {decision.subject}"
    if decision.reviews:
        reviews = decision.reviews
        levels = " · ".join(f"{level} {n}" for level, n in reviews.by_level.items())
        average = reviews.average_rating
        counted = (
            f"average {average:.2f}/5 over the {reviews.counted} counted" if average is not None else "none counted"
        )
        yield f"  {reviews.count} review(s): {levels}; {counted}"
    for reason in decision.reasons:
        yield f"  - {reason}"


@click.command()
@click.argument("url")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Policy TOML (default: $OMAREVIEW_HOME/policy.toml, else the built-in policy).",
)
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds to wait for the URL.")
@JSON_OPTION
@click.pass_context
def check(ctx: click.Context, url: str, policy_file: Path | None, timeout: float, as_json: bool) -> int:
    """Fetch URL (paying nothing) and show whether the gate would pay its 402, and why.

    Exit 0 when the decision is pay, 1 when it is ask or refuse (or the URL did not answer 402),
    3 when the URL cannot be reached."""
    policy = load_policy(policy_file)
    try:
        network = global_options(ctx).resolve_network()
        index: ReviewIndex | None = ReviewIndex(network, judge_context=JudgeContext(), store=global_options(ctx).store)
    except ConfigError:
        index = None
    status, headers, body = fetch_user_url(url, timeout_s=timeout)
    decision = Gate(index, policy).decide(url, status, headers, body)
    emit(decision.to_json(), as_json, lambda: _lines(decision))
    return 0 if decision.action == "pay" else 1
