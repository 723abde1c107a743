"""Has this receipt been reviewed already? The chain and the local outbox both answer.

On-chain, the attester's User Reviews are found with the shared log scanner (attester topic + schema), their
bodies fetched in batches, and each `x402-receipt` proof's digest compared: the EIP-712 digest or the
SHA-256 of the JWS signing input, so a re-encoded signature does not hide a duplicate.
"""

from __future__ import annotations

from collections.abc import Collection

from omareview.eas.client import EasClient
from omareview.eas.scanner import LogScanner
from omareview.errors import InputError
from omareview.review.model import decode_user_review
from omareview.review.outbox import Outbox
from omareview.review.proofs import parse_proof
from omareview.x402.load import load_artifacts
from omareview.x402.verify import artifact_digest

__all__ = ["SETTLED_DEPTH", "DuplicateReviewError", "receipt_digests_of", "reviewed_receipts"]

#: Reviews this many blocks below the head are kept as settled (a reorg that deep is not expected).
SETTLED_DEPTH = 64


class DuplicateReviewError(InputError):
    """The receipt already backs a review; `uid` is that review's attestation."""

    def __init__(self, uid: str, where: str) -> None:
        super().__init__(f"this receipt already backs review {uid} ({where})", reason="already-reviewed")
        self.uid = uid


def receipt_digests_of(data: bytes) -> set[str]:
    """Digests of the x402 receipts a User Review's data carries (unreadable proofs are skipped)."""
    try:
        proofs = decode_user_review(data).get("proofs") or []
    except InputError:
        return set()
    digests = set()
    for text in proofs:
        proof = parse_proof(text)
        if proof is None or proof.proof_type != "x402-receipt":
            continue
        try:
            digests |= {artifact_digest(a) for a in load_artifacts(proof.proof_object, kind="receipt")}
        except InputError:
            continue
    return digests


def reviewed_receipts(
    client: EasClient, attester: str, ledger: Outbox | None = None, *, among: Collection[str] | None = None
) -> dict[str, str]:
    """digest → review UID for every receipt the attester's on-chain User Reviews carry (only those `among`
    the given digests, when named).

    With a `ledger`, the digests of reviews `SETTLED_DEPTH` blocks deep are kept there with a block cursor,
    so each check reads only what was written since, and looks the settled ones up by digest: its cost does
    not grow with the attester's history.
    """
    head = client.rpc.block_number()
    scanner = LogScanner(client.rpc, client.eas_address)
    schema = client.network.schema_uid()
    scope = f"{client.chain_id}:{client.eas_address.lower()}:{schema}:{attester.lower()}"
    known, cursor = ledger.reviewed(scope, among) if ledger is not None else ({}, None)
    start = cursor + 1 if cursor is not None else client.network.deployment_block
    logs = [log for chunk in scanner.scan(start, head, schemas=[schema], attester=attester) for log in chunk]
    found, settled = dict(known), dict[str, str]()
    settled_block = head - SETTLED_DEPTH
    for log, attestation in zip(logs, client.attestations([log.uid for log in logs]), strict=True):
        for digest in receipt_digests_of(attestation.data):
            found.setdefault(digest, attestation.uid)
            if log.block_number <= settled_block:
                settled.setdefault(digest, attestation.uid)
    if ledger is not None and settled_block >= start:
        ledger.remember_reviewed(scope, settled, settled_block)
    if among is not None:
        return {digest: uid for digest, uid in found.items() if digest in among}
    return found
