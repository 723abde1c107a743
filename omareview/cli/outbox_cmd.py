"""`omareview outbox list | show | export | review | submit | retry`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from omareview.cli.common import global_options, key_options, load_signer
from omareview.cli.output import JSON_OPTION, emit, emit_many, note
from omareview.eas.client import EasClient
from omareview.errors import InputError
from omareview.hooks import ReviewDraft, Submitter
from omareview.review.model import new_review
from omareview.review.outbox import Outbox, OutboxEntry
from omareview.x402.verify import VerifyOptions

STATUSES = ["pending", "submitting", "done", "rejected"]


@click.group()
def outbox() -> None:
    """The local outbox of captured receipts and the reviews made from them."""


@outbox.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only entries in this state.")
@JSON_OPTION
def list_entries(status: str | None, as_json: bool) -> None:
    """Every receipt the outbox holds, and what became of it."""
    entries = Outbox().entries(status)  # type: ignore[arg-type]
    if as_json:
        emit([e.to_json() for e in entries], True, lambda: [])
        return
    if not entries:
        click.echo("the outbox is empty" if status is None else f"no {status} entries")
        return
    click.echo(f"{'STATUS':<10} {'DIGEST':<19}  {'PAYER':<13} {'SUBJECT':<32} {'DRAFT':<12} UID OR ERROR")
    for entry in entries:
        draft = f"{entry.draft.rating}★ drafted" if entry.draft else "no draft"
        detail = entry.uid or entry.last_error or ""
        payer = f"{entry.payer[:6]}…{entry.payer[-4:]}" if entry.payer else "?"
        click.echo(
            f"{entry.status:<10} {entry.digest[:18]}…  {payer:<13} {entry.subject or '?':<32} {draft:<12} {detail}"
        )


def _one_entry(box: Outbox, digest: str) -> OutboxEntry:
    matches = [e for e in box.entries() if e.digest.startswith(digest.lower())]
    if len(matches) != 1:
        raise InputError(
            f"{'no' if not matches else len(matches)} outbox entries match {digest!r}; give more of the digest"
        )
    return matches[0]


def _shown(entry: OutboxEntry) -> dict[str, Any]:
    return {**entry.to_json(), "receipt": entry.receipt, "offer": entry.offer}


@outbox.command("show")
@click.argument("digest")
@JSON_OPTION
def show_entry(digest: str, as_json: bool) -> None:
    """One entry (DIGEST, or an unambiguous prefix): its state, its receipt, offer and settlement."""
    entry = _one_entry(Outbox(), digest)

    def human() -> list[str]:
        rows = [
            ("digest", entry.digest),
            ("status", entry.status),
            ("subject", entry.subject),
            ("resource", entry.resource_url),
            ("payer", entry.payer),
            ("settlement", f"{entry.payment_network}:{entry.payment_tx}" if entry.payment_tx else None),
            ("draft", f"{entry.draft.rating}★ {entry.draft.body}" if entry.draft else None),
            ("review", f"{entry.uid} on {entry.network}" if entry.uid else None),
            ("last error", entry.last_error),
            ("offer", "kept (see --json)" if entry.offer else "none seen"),
        ]
        lines = [f"{name:<11} {value}" for name, value in rows if value]
        return [*lines, "receipt", json.dumps(entry.receipt, indent=2, ensure_ascii=False)]

    emit(_shown(entry), as_json, human)


@outbox.command("export")
@click.argument("digest", required=False)
@click.option("--offer", "the_offer", is_flag=True, help="Export the signed offer kept with it instead.")
def export_entry(digest: str | None, the_offer: bool) -> None:
    """Print the receipt of one entry (DIGEST, an unambiguous prefix, or by default the latest captured)
    exactly as the service signed it: the file `receipt verify` and `review submit --receipt` take."""
    box = Outbox()
    if digest is None:
        entries = box.entries()
        if not entries:
            raise InputError("the outbox is empty: no receipt has been captured", reason="outbox-entry")
        entry = max(entries, key=lambda e: e.created_at)
    else:
        entry = _one_entry(box, digest)
    artifact = entry.offer if the_offer else entry.receipt
    if artifact is None:
        raise InputError(f"no signed offer was seen for {entry.digest[:18]}…", reason="outbox-entry")
    click.echo(json.dumps(artifact, indent=2, ensure_ascii=False))


@outbox.command("retry")
@click.argument("digests", nargs=-1, metavar="[DIGEST]...")
@click.option("--all", "every", is_flag=True, help="Every rejected entry.")
@JSON_OPTION
def retry_entries(digests: tuple[str, ...], every: bool, as_json: bool) -> None:
    """Bring rejected entries (DIGEST, or an unambiguous prefix) back to pending, to be reviewed again."""
    box = Outbox()
    if every == bool(digests):
        raise click.UsageError("give DIGEST... or --all")
    chosen = box.entries("rejected") if every else [_one_entry(box, digest) for digest in digests]
    not_rejected = [e.digest[:18] for e in chosen if e.status != "rejected"]
    if not_rejected:
        raise InputError(f"only rejected entries can be retried; {', '.join(not_rejected)}… are not")
    revived = [box.update(e.digest, status="pending", last_error=None) for e in chosen]
    emit_many(
        [e.to_json() for e in revived],
        as_json,
        lambda e: [f"pending   {e['digest'][:18]}…  {e['subject'] or '?'}"],
    )


@outbox.command("review")
@click.argument("digest")
@click.option("--rating", type=int, required=True, help="1 (worst) to 5 (best).")
@click.option("--body", default="", help="The review text, at most 500 characters.")
@click.option("--screenshot", "screenshots", multiple=True, metavar="URL", help="A screenshot URL (repeatable).")
@click.option("--service-version", default="", metavar="V", help="The reviewed service version (1, 1.2 or 1.2.3).")
@click.option(
    "--via",
    metavar="PROVIDER",
    help="Send it now to this review provider's write link (a host on the policy's allowlist).",
)
@click.option("--policy", "policy_file", type=click.Path(path_type=Path, dir_okay=False), help="Payment policy TOML.")
@key_options
@JSON_OPTION
@click.pass_context
def review_entry(
    ctx: click.Context,
    digest: str,
    rating: int,
    body: str,
    screenshots: tuple[str, ...],
    service_version: str,
    via: str | None,
    policy_file: Path | None,
    keystore: Path | None,
    dev_account: int | None,
    as_json: bool,
) -> int:
    """Attach a review draft to a captured receipt (DIGEST, or an unambiguous prefix of it); with --via,
    send it to a review provider, which writes it on-chain with the paying wallet as attester."""
    box = Outbox()
    entry = _one_entry(box, digest)
    draft = ReviewDraft(rating, body, screenshots, service_version)
    new_review(
        subject=entry.subject or "",
        rating_value=rating,
        review_body=body,
        screenshot_urls=screenshots,
        version=service_version,
    )
    if via is None:
        if entry.status in ("done", "rejected"):
            raise InputError(
                f"entry {entry.digest[:18]}… is {entry.status}; only pending receipts can be reviewed",
                reason="outbox-entry",
            )
        updated = box.update(entry.digest, draft=draft)
        emit(
            updated.to_json(), as_json, lambda: [f"draft {rating}★ attached to {entry.digest[:18]}… ({entry.subject})"]
        )
        return 0
    from omareview.gate.policy import load_policy
    from omareview.hooks.via_provider import send_via_provider

    network = global_options(ctx).resolve_network()
    signer = load_signer(network, keystore, dev_account)
    report = send_via_provider(
        entry.digest,
        via,
        EasClient(network, signer),
        signer,
        allowlist=load_policy(policy_file).provider_hosts(),
        draft=draft,
        outbox=box,
    )
    emit(report.to_json(), as_json, lambda: [f"{report.status:<9} {entry.digest[:18]}…  {report.uid or report.error}"])
    return 0 if report.status == "done" else 1


@outbox.command("submit")
@click.option("--attempts", type=click.IntRange(1, 20), default=3, help="Tries while the chain cannot be reached.")
@click.option("--no-authorize", is_flag=True, help="Skip checking receipt signers' authorization.")
@key_options
@JSON_OPTION
@click.pass_context
def submit_entries(
    ctx: click.Context,
    attempts: int,
    no_authorize: bool,
    keystore: Path | None,
    dev_account: int | None,
    as_json: bool,
) -> int:
    """Submit the reviews drafted for captured receipts, in as few transactions as possible."""
    network = global_options(ctx).resolve_network()
    signer = load_signer(network, keystore, dev_account)
    client = EasClient(network, signer)
    submitter = Submitter(
        client,
        signer,
        Outbox(),
        verify_options=VerifyOptions(authorize=not no_authorize),
        progress=None if as_json else note,
    )
    reports = submitter.run(attempts=attempts)
    rows: list[dict[str, Any]] = [r.to_json() for r in reports]
    if not rows:
        emit([], as_json, lambda: ["nothing to submit: no pending receipt has a review draft"])
        return 0
    emit_many(rows, as_json, lambda r: [f"{r['status']:<9} {r['digest'][:18]}…  {r['uid'] or r['error'] or ''}"])
    return 0 if all(r["status"] == "done" for r in rows) else 1
