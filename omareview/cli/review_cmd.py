"""`omareview review build | submit | submit-many`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from omareview._files import read_regular
from omareview._json import JsonObject, UntrustedJsonError, loads_untrusted
from omareview.cli.common import (
    chain_time,
    global_options,
    key_options,
    load_relayer,
    load_signer,
    relayer_options,
)
from omareview.cli.output import JSON_OPTION, emit, emit_many, fail, note, progress
from omareview.eas.client import EasClient, review_request
from omareview.errors import ConfigError, InputError, validation_problem
from omareview.identity.jws import looks_like_compact_jws
from omareview.networks import Network
from omareview.review.build import review_from_receipt, review_of_subject
from omareview.review.duplicates import DuplicateReviewError
from omareview.review.outbox import Outbox
from omareview.review.submit import JobOutcome, Mode, ReviewJob, check_duplicates, submit_reviews
from omareview.signers import Signer
from omareview.x402.load import MAX_INPUT_BYTES, LoadedArtifact, load_artifacts, load_artifacts_from_path
from omareview.x402.verify import VerifyOptions
from omareview.x402.wire import ArtifactKind


class ReviewInput(BaseModel):
    """One review to write (a line of `submit-many`); mirrors schemas/user-review.input.schema.json."""

    model_config = ConfigDict(defer_build=True, populate_by_name=True, extra="forbid")

    receipt: JsonObject | str | None = None
    subject: str | None = None
    rating_value: StrictInt = Field(alias="ratingValue")
    review_body: str = Field(default="", alias="reviewBody")
    version: str = ""
    screenshot_urls: list[str] = Field(default_factory=list, alias="screenshotUrls")
    offer: JsonObject | str | None = None


def _single(matching: list[LoadedArtifact], kind: ArtifactKind, source: str) -> LoadedArtifact:
    if not matching:
        raise InputError(f"{source} holds no signed {kind}")
    if len(matching) > 1:
        raise InputError(f"{source} holds {len(matching)} signed {kind}s; give one")
    return matching[0]


def _artifact(value: JsonObject | str, kind: ArtifactKind, base: Path) -> LoadedArtifact:
    if isinstance(value, dict) or _inline(value):
        return _single(load_artifacts(value, f"inline {kind}", kind=kind), kind, f"inline {kind}")
    path = value if value == "-" or Path(value).is_absolute() else str(base / value)
    return _single(load_artifacts_from_path(path, kind=kind), kind, value)


def _inline(value: str) -> bool:
    """A `receipt`/`offer` string that is the artifact itself rather than a file name: longer than a file
    name may be (a base64 header value), JSON text, or a compact JWS (its header is base64 of `{"`)."""
    text = value.strip()
    return len(text) > 255 or text.startswith(("{", "[")) or (text.startswith("eyJ") and looks_like_compact_jws(text))


def _job(
    spec: ReviewInput,
    attester: str,
    options: VerifyOptions | Callable[[], VerifyOptions],
    base: Path,
    payer_link: Callable[[str], str | None] | None = None,
) -> ReviewJob:
    if spec.receipt is not None and spec.subject is not None:
        raise InputError("give a receipt or a subject, not both (the receipt names the subject)")
    if spec.receipt is None:
        if spec.subject is None:
            raise InputError("a review needs a receipt (--receipt) or a subject (--subject)")
        review = review_of_subject(
            spec.subject,
            rating=spec.rating_value,
            body=spec.review_body,
            screenshots=spec.screenshot_urls,
            version=spec.version,
        )
        return ReviewJob(review)
    receipt = _artifact(spec.receipt, "receipt", base)
    offer = _artifact(spec.offer, "offer", base) if spec.offer is not None else None
    review, _ = review_from_receipt(
        receipt,
        attester,
        rating=spec.rating_value,
        body=spec.review_body,
        screenshots=spec.screenshot_urls,
        version=spec.version,
        offer=offer,
        options=options() if callable(options) else options,
        payer_link=payer_link,
    )
    return ReviewJob(review, receipt, offer)


def _at_chain_time(network: Network, authorize: bool) -> Callable[[], VerifyOptions]:
    """Verify options judging at the chain's clock (the next block's time), read once and only when a
    receipt is judged, so input that is refused anyway never waits on the node."""

    @functools.cache
    def options() -> VerifyOptions:
        return VerifyOptions(authorize=authorize, now=chain_time(network))

    return options


def review_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--receipt", metavar="FILE", help="The signed receipt (any carrier; - for stdin)."),
            click.option("--subject", metavar="DID", help="Review a service without a receipt (reads as unverified)."),
            click.option("--rating", type=int, required=True, help="1 (worst) to 5 (best)."),
            click.option("--body", default="", help="The review text, at most 500 characters."),
            click.option("--screenshot", "screenshots", multiple=True, metavar="URL", help="Up to 10 screenshot URLs."),
            click.option(
                "--service-version", default="", metavar="V", help="The service version reviewed (1, 1.2, 1.2.3)."
            ),
            click.option(
                "--offer", metavar="FILE", help="The signed offer that preceded the payment, attached as proof."
            ),
            click.option("--no-authorize", is_flag=True, help="Skip checking the receipt signer's authorization."),
        ]
    ):
        func = option(func)
    return func


def _spec(
    receipt: str | None,
    subject: str | None,
    rating: int,
    body: str,
    screenshots: tuple[str, ...],
    version: str,
    offer: str | None,
) -> ReviewInput:
    return ReviewInput(
        receipt=receipt,
        subject=subject,
        rating_value=rating,
        review_body=body,
        screenshot_urls=list(screenshots),
        version=version,
        offer=offer,
    )


def _signer_or_none(network: Network, keystore: Path | None, dev_account: int | None) -> Signer | None:
    try:
        return load_signer(network, keystore, dev_account)
    except ConfigError:
        if keystore is not None or dev_account is not None:
            raise
        return None


@click.group()
def review() -> None:
    """Write OMATrust User Reviews backed by x402 receipts."""


@review.command()
@review_options
@click.option("--attester", metavar="ADDRESS", help="The reviewer's address, when no key is given.")
@click.option("--delegated", is_flag=True, help="Also sign the EAS delegated attestation (needs the key).")
@click.option("--offline", is_flag=True, help="Skip the chain: no duplicate check, no network needed.")
@key_options
@JSON_OPTION
@click.pass_context
def build(
    ctx: click.Context,
    receipt: str | None,
    subject: str | None,
    rating: int,
    body: str,
    screenshots: tuple[str, ...],
    service_version: str,
    offer: str | None,
    no_authorize: bool,
    attester: str | None,
    delegated: bool,
    offline: bool,
    keystore: Path | None,
    dev_account: int | None,
    as_json: bool,
) -> None:
    """Everything `submit` does except sending: print the attestation request."""
    network = global_options(ctx).resolve_network()
    signer = _signer_or_none(network, keystore, dev_account)
    if signer is not None and attester is not None and signer.address.lower() != attester.lower():
        raise ConfigError(
            f"--attester {attester} is not the signing key's address {signer.address}; give one or the other",
            reason="attester-mismatch",
        )
    who = signer.address if signer is not None else attester
    if who is None:
        raise ConfigError(
            "the reviewer is unknown: give --attester ADDRESS, or a key (OMAREVIEW_PRIVATE_KEY, --keystore)"
        )
    spec = _spec(receipt, subject, rating, body, screenshots, service_version, offer)
    options = VerifyOptions(authorize=not no_authorize) if offline else _at_chain_time(network, not no_authorize)
    job = _job(spec, who, options, Path.cwd())
    schema_uid = network.schema_uid()
    data: JsonObject = {
        "network": network.name,
        "easAddress": network.eas_address,
        "schemaUid": schema_uid,
        "attester": who,
        "subject": job.review.subject,
        "recipient": job.review.recipient,
        "revocable": False,
        "expirationTime": 0,
        "review": job.review.to_json(),
        "data": "0x" + job.review.encode().hex(),
        "proofs": list(job.review.proofs),
        "receiptDigest": job.digest,
    }
    if not offline:
        client = EasClient(network, signer)
        client.check_chain()
        duplicate = check_duplicates(client, who, [job], Outbox()).get(0)
        if duplicate is not None:
            raise duplicate
        if delegated:
            if signer is None:
                raise ConfigError("--delegated needs the attester's key")
            signed = client.sign_delegated(review_request(job.review.recipient, job.review.encode()), signer)
            data["delegated"] = signed.relay_body().to_json()

    def human() -> Iterator[str]:
        yield f"review of {data['subject']} by {who}: {rating}/5"
        yield f"  recipient   {data['recipient']}"
        yield f"  schema      {schema_uid} on {network.name} (EAS {network.eas_address})"
        yield f"  data        {len(job.review.encode())} bytes, {len(job.review.proofs)} proof(s)"
        if job.digest:
            yield f"  receipt     {job.digest}"
        if "delegated" in data:
            yield f"  delegated   signed, nonce {data['delegated']['prepared']['delegatedRequest']['nonce']}"

    emit(data, as_json, human)


def _outcome_json(outcome: JobOutcome) -> JsonObject:
    if outcome.submitted is not None:
        return {"ok": True, **outcome.submitted.to_json(), "subject": outcome.job.review.subject}
    error: JsonObject = {"ok": False, "error": str(outcome.error), "subject": outcome.job.review.subject}
    if isinstance(outcome.error, DuplicateReviewError):
        error["existingUid"] = outcome.error.uid
    return error


def _mode(delegated: bool, relay: str | None) -> Mode:
    if relay and not delegated:
        raise ConfigError("--relay goes with --delegated")
    return "relay" if relay else "delegated" if delegated else "direct"


@review.command()
@review_options
@click.option("--delegated", is_flag=True, help="Sign an EAS delegated attestation; a relayer sends it.")
@click.option("--relay", metavar="URL", help="With --delegated: POST it to this OMATrust-compatible relay.")
@relayer_options
@click.option("--allow-duplicate", is_flag=True, help="Review a receipt that already backs a review.")
@click.option(
    "--payer-link",
    metavar="UID",
    help="The Linked Identifier binding this wallet to the receipt's payer (`omareview identity link`), "
    "when another wallet paid.",
)
@key_options
@JSON_OPTION
@click.pass_context
def submit(
    ctx: click.Context,
    receipt: str | None,
    subject: str | None,
    rating: int,
    body: str,
    screenshots: tuple[str, ...],
    service_version: str,
    offer: str | None,
    no_authorize: bool,
    delegated: bool,
    relay: str | None,
    relayer_keystore: Path | None,
    relayer_dev_account: int | None,
    allow_duplicate: bool,
    payer_link: str | None,
    keystore: Path | None,
    dev_account: int | None,
    as_json: bool,
) -> int:
    """Check the review and submit it on-chain (or through a relay)."""
    network = global_options(ctx).resolve_network()
    mode = _mode(delegated, relay)
    signer = load_signer(network, keystore, dev_account)
    linked = None
    if payer_link is not None:
        from omareview.review.identity_requests import fetch_identity_attestation, payer_link_checker

        link = fetch_identity_attestation(EasClient(network, signer), payer_link, "linked-identifier")
        linked = payer_link_checker(link, signer.address, chain_time(network))
    job = _job(
        _spec(receipt, subject, rating, body, screenshots, service_version, offer),
        signer.address,
        _at_chain_time(network, not no_authorize),
        Path.cwd(),
        linked,
    )
    relayer = load_relayer(network, relayer_keystore, relayer_dev_account) if mode == "delegated" else None
    client = _client(network, signer, mode, relayer)
    (outcome,) = submit_reviews(
        client,
        [job],
        signer,
        outbox=Outbox(),
        allow_duplicate=allow_duplicate,
        mode=mode,
        relay_url=relay,
        progress=None if as_json else progress,
    )
    if outcome.error is not None:
        raise outcome.error
    assert outcome.submitted is not None
    result = {**outcome.submitted.to_json(), "subject": job.review.subject}
    emit(
        result,
        as_json,
        lambda: [
            f"review {result['uid']} of {result['subject']}",
            f"  tx {result['txHash']} in block {result['blockNumber']}, gas {result['gasUsed']}",
        ],
    )
    return 0


def _client(network: Network, signer: Signer, mode: Mode, relayer: Signer | None) -> EasClient:
    """The client that sends: the attester itself, or for delegated mode without a relay, the relayer."""
    if mode != "delegated":
        client = EasClient(network, signer)
    else:
        if relayer is None:
            raise ConfigError(
                "--delegated needs --relay URL, or a relayer key (OMAREVIEW_RELAYER_KEY, --relayer-keystore "
                "or --relayer-dev-account)"
            )
        client = EasClient(network, relayer)
    client.check_chain()
    return client


def _read_jsonl(path: Path) -> list[tuple[int, ReviewInput]]:
    """Each review line of a JSON Lines file, numbered, checked for shape before anything reads the chain."""
    try:
        lines = read_regular(path, MAX_INPUT_BYTES).decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a readable UTF-8 file", reason="unreadable-file") from None
    specs = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = loads_untrusted(line, what=f"{path} line {number}")
        except UntrustedJsonError as exc:
            raise InputError(f"{path} line {number} is not JSON ({exc.detail})", reason=exc.reason) from None
        try:
            specs.append((number, ReviewInput.model_validate(value)))
        except ValidationError as exc:
            raise InputError(f"{path} line {number}: {validation_problem(exc, 'line')}") from None
    if not specs:
        raise InputError(f"{path} holds no reviews")
    return specs


def _jobs_of(
    path: Path,
    specs: list[tuple[int, ReviewInput]],
    attester: str,
    options: Callable[[], VerifyOptions],
) -> list[ReviewJob]:
    jobs = []
    for number, spec in specs:
        try:
            jobs.append(_job(spec, attester, options, path.parent))
        except ValidationError as exc:
            raise InputError(f"{path} line {number}: {validation_problem(exc, 'line')}") from None
        except InputError as exc:
            raise InputError(f"{path} line {number}: {exc}") from None
    return jobs


def _many_line(result: JsonObject) -> list[str]:
    if "summary" in result:
        counts = result["summary"]
        return [
            f"{counts['submitted']} submitted in {counts['transactions']} transaction(s), {counts['failed']} failed"
        ]
    status = f"ok     {result['uid']}" if result["ok"] else f"FAILED {result['error']}"
    return [f"{status}  {result['subject']}"]


@review.command("submit-many")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--no-authorize", is_flag=True, help="Skip checking receipt signers' authorization.")
@click.option("--allow-duplicate", is_flag=True, help="Review receipts that already back a review.")
@key_options
@JSON_OPTION
@click.pass_context
def submit_many(
    ctx: click.Context,
    file: Path,
    no_authorize: bool,
    allow_duplicate: bool,
    keystore: Path | None,
    dev_account: int | None,
    as_json: bool,
) -> int:
    """Submit the reviews of a JSON Lines file (one review per line: receipt or subject, ratingValue, …)
    in as few multiAttest transactions as the gas cap allows. Every line is checked before anything is sent."""
    network = global_options(ctx).resolve_network()
    signer = load_signer(network, keystore, dev_account)
    specs = _read_jsonl(file)
    jobs = _jobs_of(file, specs, signer.address, _at_chain_time(network, not no_authorize))
    client = EasClient(network, signer)
    client.check_chain()
    outcomes = submit_reviews(
        client, jobs, signer, outbox=Outbox(), allow_duplicate=allow_duplicate, progress=None if as_json else note
    )
    results = [_outcome_json(o) for o in outcomes]
    submitted = [o.submitted for o in outcomes if o.submitted is not None]
    transactions = {s.tx_hash: s.gas_used for s in submitted}
    summary = {
        "summary": {
            "submitted": len(submitted),
            "failed": len(outcomes) - len(submitted),
            "transactions": len(transactions),
            "gasUsed": sum(transactions.values()),
        }
    }
    emit_many([*results, summary], as_json, _many_line)
    for result in results:
        if not result["ok"]:
            fail(result["error"])
    return 0 if not summary["summary"]["failed"] else 1
