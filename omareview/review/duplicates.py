"""Has this receipt been reviewed already? The chain and the local outbox both answer.

On-chain, the attester's User Reviews are found with the shared log scanner (attester topic + schema), their
bodies fetched in batches, and each `x402-receipt` proof's digest compared: the EIP-712 digest or the
SHA-256 of the JWS signing input, so a re-encoded signature does not hide a duplicate.
"""

from __future__ import annotations

from omareview.eas.client import EasClient
from omareview.eas.scanner import LogScanner
from omareview.errors import InputError
from omareview.review.model import decode_user_review
from omareview.review.proofs import parse_proof
from omareview.x402.load import load_artifacts
from omareview.x402.verify import artifact_digest

__all__ = ["DuplicateReviewError", "receipt_digests_of", "reviewed_receipts"]


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


def reviewed_receipts(client: EasClient, attester: str) -> dict[str, str]:
    """digest → review UID for every receipt the attester's on-chain User Reviews carry."""
    head = client.rpc.block_number()
    scanner = LogScanner(client.rpc, client.eas_address)
    schema = client.network.schema_uid()
    uids = [
        log.uid
        for chunk in scanner.scan(client.network.deployment_block, head, schemas=[schema], attester=attester)
        for log in chunk
    ]
    found: dict[str, str] = {}
    for attestation in client.attestations(uids):
        for digest in receipt_digests_of(attestation.data):
            found.setdefault(digest, attestation.uid)
    return found
