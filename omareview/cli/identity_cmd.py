"""`omareview identity …` and `omareview respond`: OMATrust identity attestations, written the OMATrust way."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from omareview._json import load_untrusted_file
from omareview.cli.common import chain_time, global_options, key_options, load_signer
from omareview.cli.output import JSON_OPTION, emit, progress
from omareview.eas.abi import RequestData
from omareview.eas.client import EasClient
from omareview.errors import InputError
from omareview.identity.dids import normalize_did
from omareview.identity.keys import did_pkh_from_address, public_key_to_jwk
from omareview.identity.pop import make_pop_eip712, make_pop_jws, make_subject_pop_jws, proves
from omareview.networks import Network
from omareview.schemas import USER_REVIEW, schema_by_uid
from omareview.signers import Signer, signer_from_key

_PROOF_BYTES = 64 * 1024
SOLANA_MAINNET = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
_VALID_FOR = click.option(
    "--valid-for",
    type=click.IntRange(60),
    default=3600,
    show_default=True,
    metavar="SECONDS",
    help="How long the proof holds.",
)
_WINDOW = [
    click.option(
        "--effective-at", type=click.IntRange(0), default=0, metavar="UNIX", help="From when (0: when written)."
    ),
    click.option("--expires-at", type=click.IntRange(0), default=0, metavar="UNIX", help="Until when (0: never)."),
]


def _window(func: Any) -> Any:
    for option in reversed(_WINDOW):
        func = option(func)
    return func


def _read_proof(path: Path) -> dict[str, Any]:
    proof = load_untrusted_file(path, _PROOF_BYTES, str(path))
    if not isinstance(proof, dict):
        raise InputError(f"{path} does not hold a proof (a JSON object)", reason="bad-proof")
    return proof


def _attest(network: Network, signer: Signer, kind: str, request: RequestData, as_json: bool) -> dict[str, Any]:
    if not as_json:
        progress(f"sending the {kind.replace('-', ' ')} from {signer.address} and waiting for the chain to take it")
    submitted = EasClient(network, signer).attest(request, network.schema_uid(kind))
    return {
        "kind": kind,
        "uid": submitted.uid,
        "attester": signer.address,
        "txHash": submitted.tx_hash,
        "blockNumber": submitted.block_number,
        "network": network.name,
    }


def _human(data: dict[str, Any]) -> Iterator[str]:
    yield f"{data['kind']} {data['uid']}"
    yield f"  by {data['attester']} in block {data['blockNumber']} on {data['network']} (tx {data['txHash']})"


@click.group()
def identity() -> None:
    """OMATrust identity attestations: key bindings, linked wallets, proofs of shared control."""


@identity.command()
@click.argument("audience")
@click.option(
    "--ed25519-key-env",
    metavar="VAR",
    help="Sign a pop-jws with the Ed25519 key (32 hex bytes) in this environment variable, as a Solana "
    "wallet would (default: a pop-eip712 with the EVM key).",
)
@click.option(
    "--solana-chain",
    default=SOLANA_MAINNET,
    show_default=True,
    metavar="GENESIS",
    help="With --ed25519-key-env: the Solana chain of the signer's did:pkh (CAIP-2 reference).",
)
@_VALID_FOR
@key_options
@JSON_OPTION
@click.pass_context
def prove(
    ctx: click.Context,
    audience: str,
    ed25519_key_env: str | None,
    solana_chain: str,
    valid_for: int,
    keystore: Path | None,
    dev_account: int | None,
    as_json: bool,
) -> None:
    """Print a proof of shared control, signed by this wallet, authorizing AUDIENCE (a DID): the file the
    other side passes to `identity link --proof` (indented, or one line with --json)."""
    audience = normalize_did(audience)
    now = int(time.time())
    if ed25519_key_env:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        from omareview.identity.keys import solana_address_of_key

        raw = os.environ.get(ed25519_key_env, "").strip().removeprefix("0x")
        try:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(raw))
        except ValueError:
            raise InputError(f"${ed25519_key_env} does not hold an Ed25519 key (32 bytes of hex)") from None
        issuer = f"did:pkh:solana:{solana_chain}:{solana_address_of_key(key.public_key())}"
        proof = make_pop_jws(key, issuer, audience, now, valid_for)
    else:
        network = global_options(ctx).resolve_network()
        signer = load_signer(network, keystore, dev_account)
        proof = make_pop_eip712(signer, audience, network.chain_id or 1, now, valid_for)
    emit(proof, as_json, lambda: [json.dumps(proof, indent=2, ensure_ascii=False)])


@identity.command()
@click.argument("linked_id")
@click.option(
    "--proof",
    "proof_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The proof LINKED_ID signed naming this wallet (`omareview identity prove` run with that key).",
)
@_VALID_FOR
@_window
@key_options
@JSON_OPTION
@click.pass_context
def link(
    ctx: click.Context,
    linked_id: str,
    proof_file: Path,
    valid_for: int,
    effective_at: int,
    expires_at: int,
    keystore: Path | None,
    dev_account: int | None,
    as_json: bool,
) -> None:
    """Link this wallet to LINKED_ID (another wallet's DID, e.g. the one that pays) with a Linked Identifier.

    Both sides prove shared control: this wallet signs a proof naming LINKED_ID, and LINKED_ID's proof
    (--proof) must name this wallet's did:pkh. Reviews written by this wallet of receipts paid by
    LINKED_ID are then bound to it."""
    network = global_options(ctx).resolve_network()
    signer = load_signer(network, keystore, dev_account)
    linked = normalize_did(linked_id)
    own = did_pkh_from_address(signer.address, network.chain_id or 1)
    theirs = _read_proof(proof_file)
    now = chain_time(network)
    if not proves(theirs, linked, own, now):
        raise InputError(f"{proof_file} is not a valid, current proof by {linked} naming {own}", reason="bad-proof")
    proofs = [make_pop_eip712(signer, linked, network.chain_id or 1, now, valid_for), theirs]
    from omareview.review.identity_requests import linked_identifier_request

    request = linked_identifier_request(
        own, linked, proofs, issued_at=now, effective_at=effective_at, expires_at=expires_at
    )
    data = _attest(network, signer, "linked-identifier", request, as_json)
    emit(data, as_json, lambda: _human(data))


@identity.command("bind-key")
@click.argument("subject")
@click.option(
    "--signing-key-env",
    metavar="VAR",
    required=True,
    help="The environment variable holding the receipt-signing key (secp256k1, hex), as the x402 server has it.",
)
@click.option(
    "--purpose",
    "purposes",
    multiple=True,
    default=("assertionMethod",),
    show_default=True,
    help="A keyPurpose (repeatable): assertionMethod or authentication sign receipts.",
)
@_VALID_FOR
@_window
@key_options
@JSON_OPTION
@click.pass_context
def bind_key(
    ctx: click.Context,
    subject: str,
    signing_key_env: str,
    purposes: tuple[str, ...],
    valid_for: int,
    effective_at: int,
    expires_at: int,
    keystore: Path | None,
    dev_account: int | None,
    as_json: bool,
) -> None:
    """Bind the service's receipt-signing key to SUBJECT (its did:web) with a Key Binding.

    Sign with the subject's controller wallet (named by its did.json, its _controllers TXT record, or a
    trusted witness); the signing key proves possession with a proof naming SUBJECT."""
    network = global_options(ctx).resolve_network()
    signer = load_signer(network, keystore, dev_account)
    did = normalize_did(subject)
    if not did.startswith("did:web:"):
        raise InputError(f"{subject} is not a did:web subject", reason="bad-did")
    key_hex = os.environ.get(signing_key_env, "").strip()
    if not key_hex:
        raise InputError(f"${signing_key_env} is empty")
    signing = signer_from_key(key_hex, what=f"${signing_key_env}")
    from cryptography.hazmat.primitives.asymmetric import ec

    public = ec.derive_private_key(int(key_hex.removeprefix("0x"), 16), ec.SECP256K1()).public_key()
    now = chain_time(network)
    key_id = did_pkh_from_address(signing.address, 1)
    # Both sides: the key's proof of possession naming the subject, and the subject's controller
    # authorizing the key in the form OMATrust's own verifier checks.
    possession = make_pop_eip712(signing, did, 1, now, valid_for)
    authorized = make_subject_pop_jws(signer, did, key_id, now, valid_for)
    from omareview.review.identity_requests import key_binding_request

    request = key_binding_request(
        did,
        key_id,
        public_key_to_jwk(public),
        purposes,
        [possession, authorized],
        issued_at=now,
        effective_at=effective_at,
        expires_at=expires_at,
    )
    data = {**_attest(network, signer, "key-binding", request, as_json), "keyId": key_id}
    emit(data, as_json, lambda: [*_human(data), f"  binds {key_id} to {did}"])


@identity.command()
@click.argument("uid")
@key_options
@JSON_OPTION
@click.pass_context
def revoke(ctx: click.Context, uid: str, keystore: Path | None, dev_account: int | None, as_json: bool) -> None:
    """Revoke one of this wallet's Key Bindings or Linked Identifiers (UID)."""
    network = global_options(ctx).resolve_network()
    signer = load_signer(network, keystore, dev_account)
    client = EasClient(network, signer)
    found = client.attestations([uid])[0]
    schema = schema_by_uid(found.schema)
    if not found.time:
        raise InputError(f"no attestation {uid} on {network.name}", reason="not-found")
    if schema is None or not schema.revocable:
        raise InputError(f"{uid} is not a revocable OMATrust attestation", reason="not-revocable")
    tx_hash = client.revoke(uid, found.schema)
    data = {"uid": uid, "kind": schema.name, "revokedBy": signer.address, "txHash": tx_hash}
    emit(data, as_json, lambda: [f"revoked {schema.name} {uid} (tx {tx_hash})"])


@click.command()
@click.argument("review_uid")
@click.option("--body", required=True, help="The response, at most 500 characters.")
@key_options
@JSON_OPTION
@click.pass_context
def respond(
    ctx: click.Context, review_uid: str, body: str, keystore: Path | None, dev_account: int | None, as_json: bool
) -> None:
    """Answer the User Review REVIEW_UID as the reviewed service (a User Review Response).

    Readers count it as the service's answer only when this wallet was the subject's controller when it
    was written."""
    if len(body) > 500:
        raise InputError(f"a response is at most 500 characters; this one has {len(body)}", reason="too-large")
    network = global_options(ctx).resolve_network()
    signer = load_signer(network, keystore, dev_account)
    found = EasClient(network, signer).attestations([review_uid])[0]
    schema = schema_by_uid(found.schema)
    if not found.time or schema is None or (schema.name != USER_REVIEW and schema.kind != USER_REVIEW):
        raise InputError(f"{review_uid} is not a User Review on {network.name}", reason="not-found")
    reviewer = did_pkh_from_address(found.attester, network.chain_id or 1)
    from omareview.review.identity_requests import response_request

    data = _attest(network, signer, "user-review-response", response_request(reviewer, review_uid, body), as_json)
    emit(data, as_json, lambda: _human(data))


__all__ = ["identity", "respond"]
