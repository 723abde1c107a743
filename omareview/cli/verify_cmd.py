"""`omareview receipt verify` and `omareview offer verify`."""

from __future__ import annotations

from collections.abc import Iterator

import click

from omareview.cli.output import JSON_OPTION, emit_model, fail, when
from omareview.errors import InputError
from omareview.x402.eip712 import ArtifactKind
from omareview.x402.load import LoadedArtifact, load_artifacts_from_path
from omareview.x402.verify import VerificationResult, VerifyOptions, verify_artifact


def _human(verification: VerificationResult) -> Iterator[str]:
    result = verification.to_json()
    verdict = "VALID" if result["valid"] else "INVALID"
    yield f"{result['kind']} ({result['format']}) from {result['source']}: {verdict}, level {result['level']}"
    signer = result.get("signer")
    if signer:
        yield f"  signer         {signer.get('address') or signer.get('kid')}  ({signer['did'][:60]})"
    payload = result.get("payload") or {}
    if result.get("subject"):
        yield f"  subject        {result['subject']}  (resource {payload.get('resourceUrl')})"
    for name in ("payer", "payTo", "amount", "asset", "network", "transaction"):
        if payload.get(name):
            yield f"  {name:<14} {payload[name]}"
    if "issuedAt" in payload:
        yield f"  issuedAt       {when(int(payload['issuedAt']), '%Y-%m-%dT%H:%M:%S+00:00')}"
    auth = result["authorization"]
    via = f" via {auth['method']}" if auth.get("method") else ""
    yield f"  authorization  {auth['status']}{via}: {auth['detail']}"
    for error in result.get("errors", []):
        yield f"  error          {error}"


def _verify(
    kind: ArtifactKind,
    inputs: tuple[str, ...],
    no_authorize: bool,
    offer_files: tuple[str, ...],
    attester: str | None,
    subject: str | None,
    max_age: int | None,
    as_json: bool,
) -> int:
    offers = [a for path in offer_files for a in load_artifacts_from_path(path, kind="offer")]
    if offer_files and not offers:
        raise InputError("--offer: no signed offer found in " + ", ".join(offer_files))
    options = VerifyOptions(
        authorize=not no_authorize,
        offers=offers,
        expected_subject=subject,
        expected_payer=attester,
        max_age_s=max_age,
    )
    artifacts: list[LoadedArtifact] = []
    for path in inputs:
        found = load_artifacts_from_path(path, kind=kind)
        if not found:
            raise InputError(f"{path} holds no signed {kind}")
        artifacts += found
    invalid = 0
    for artifact in artifacts:
        result = verify_artifact(artifact, options)
        emit_model(result, as_json, _human)
        if not result.valid:
            invalid += 1
            fail(f"{result.source}: {result.errors[0]}")
    return 0 if not invalid else 1


def _verify_command(kind: ArtifactKind) -> click.Command:
    @click.command("verify")
    @click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
    @click.option("--no-authorize", is_flag=True, help="Skip the signer-authorization look-ups (did.json, DNS).")
    @click.option(
        "--offer",
        "offer_files",
        multiple=True,
        metavar="FILE",
        help="A signed offer (or the 402 carrying it): its payTo can authorize an EIP-712 signer.",
    )
    @click.option("--attester", metavar="ADDRESS", help="Check the receipt's payer is this reviewer.")
    @click.option("--subject", metavar="DID", help="Check the artifact is for this subject DID.")
    @click.option("--max-age", type=click.IntRange(min=0), metavar="SECONDS", help="Refuse receipts older than this.")
    @JSON_OPTION
    def command(
        inputs: tuple[str, ...],
        no_authorize: bool,
        offer_files: tuple[str, ...],
        attester: str | None,
        subject: str | None,
        max_age: int | None,
        as_json: bool,
    ) -> int:
        return _verify(kind, inputs, no_authorize, offer_files, attester, subject, max_age, as_json)

    command.help = (
        f"Parse and verify signed x402 {kind}s. INPUT is a file or - for stdin: a signed envelope, a "
        "SettleResponse or PaymentRequired JSON, a base64 header value, an OMATrust proof wrapper, or a "
        "compact JWS. Exit 1 when any is invalid."
    )
    return command


@click.group()
def receipt() -> None:
    """Signed x402 receipts."""


@click.group()
def offer() -> None:
    """Signed x402 offers."""


receipt.add_command(_verify_command("receipt"))
offer.add_command(_verify_command("offer"))
