"""The index's rows as Python values, and back: what sync writes (`MinedRow`, `ReviewRow`, `IdentityRow`,
each knowing its table's column order), what a read gives (`StoredReview`, `IdentityAttestation`), and the
document a provider serves of one (`ReviewRecord`)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from omareview._wire import WireModel
from omareview.identity.graph import IdentityAttestation
from omareview.index._engines import Row
from omareview.index.judgement import Judgement

__all__ = [
    "COLUMNS",
    "IDENTITY_COLUMNS",
    "IDENTITY_NAMES",
    "NAMES",
    "IdentityRow",
    "MinedRow",
    "ReviewRecord",
    "ReviewRow",
    "StoredReview",
    "identity_attestation",
    "judgement_of",
    "stored_review",
]

IDENTITY_COLUMNS = (
    "uid, schema_uid, kind, attester, recipient, time, revocation_time, block_number, block_hash, tx_hash, "
    "log_index, ref, fields, decode_error"
)
IDENTITY_NAMES = [name.strip() for name in IDENTITY_COLUMNS.split(",")]
COLUMNS = (
    "uid, schema_uid, attester, recipient, time, revocation_time, block_number, block_hash, tx_hash, log_index, "
    "subject, version, rating_value, review_body, screenshot_urls, proofs, legacy, decode_error"
)
NAMES = [name.strip() for name in COLUMNS.split(",")]


@dataclass(frozen=True)
class MinedRow:
    """What every indexed attestation keeps: who, to whom, when, and where it was mined (so a reorg can be
    undone)."""

    uid: str
    schema_uid: str
    attester: str
    recipient: str
    time: int
    revocation_time: int
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class ReviewRow:
    """A User Review's row: its decoded fields (lists as JSON text), or why they do not decode."""

    mined: MinedRow
    legacy: bool = False
    decode_error: str | None = None
    subject: str | None = None
    version: str | None = None
    rating_value: int | None = None
    review_body: str | None = None
    screenshot_urls: str = "[]"
    proofs: str = "[]"

    def columns(self) -> tuple[object, ...]:
        """Its values in the `reviews` table's column order."""
        values = {**vars(self.mined), **vars(self), "legacy": int(self.legacy)}
        return tuple(values[name] for name in NAMES)


@dataclass(frozen=True)
class IdentityRow:
    """An identity attestation's row: its kind, fields as JSON text, and the field it is looked up by."""

    mined: MinedRow
    kind: str
    fields: str = "{}"
    ref: str | None = None
    decode_error: str | None = None

    def columns(self) -> tuple[object, ...]:
        """Its values in the `identity` table's column order."""
        values = {**vars(self.mined), **vars(self)}
        return tuple(values[name] for name in IDENTITY_NAMES)


@dataclass(frozen=True)
class StoredReview(MinedRow):
    """A review as read back: where it was mined, its decoded fields, and its last judgement."""

    subject: str | None
    version: str | None
    rating_value: int | None
    review_body: str | None
    screenshot_urls: tuple[str, ...]
    proofs: tuple[str, ...]
    legacy: bool
    decode_error: str | None
    level: str | None
    judgement: Judgement | None
    judged_at: int | None


class ReviewRecord(WireModel):
    """One indexed review as a document: its EAS record, its decoded fields and its last judgement.

    Attributes:
        uid: the attestation UID.
        schema_uid: the User Review schema it was written under.
        attester: who wrote it.
        recipient: the subject's DID address.
        subject: the subject DID, as the review names it.
        time: EAS time of the attestation.
        revocation_time: when it was revoked (0: never).
        block_number: the block it was attested in.
        tx_hash: its transaction.
        rating_value: 1 to 5.
        review_body: the review text.
        version: the reviewed service version.
        screenshot_urls: screenshot URLs.
        proofs: the proof wrappers, as written.
        level: its last judged level (None: not judged yet).
        judgement: the reasons behind that level.
    """

    uid: str
    schema_uid: str
    attester: str
    recipient: str
    subject: str | None
    time: int
    revocation_time: int
    block_number: int
    tx_hash: str
    rating_value: int | None
    review_body: str | None
    version: str | None
    screenshot_urls: list[str]
    proofs: list[str]
    level: str | None
    judgement: Judgement | None

    @classmethod
    def of(cls, row: StoredReview) -> ReviewRecord:
        """The document of a stored review: the fields they share, by name."""
        return cls.model_validate({name: getattr(row, name) for name in cls.model_fields})


def identity_attestation(row: Row) -> IdentityAttestation:
    return IdentityAttestation(
        uid=row["uid"],
        kind=row["kind"],
        attester=row["attester"],
        time=int(row["time"]),
        revocation_time=int(row["revocation_time"]),
        fields=json.loads(row["fields"]),
    )


def stored_review(row: Row) -> StoredReview:
    return StoredReview(
        uid=row["uid"],
        schema_uid=row["schema_uid"],
        attester=row["attester"],
        recipient=row["recipient"],
        time=row["time"],
        revocation_time=row["revocation_time"],
        block_number=row["block_number"],
        block_hash=row["block_hash"],
        tx_hash=row["tx_hash"],
        log_index=row["log_index"],
        subject=row["subject"],
        version=row["version"],
        rating_value=row["rating_value"],
        review_body=row["review_body"],
        screenshot_urls=tuple(json.loads(row["screenshot_urls"])),
        proofs=tuple(json.loads(row["proofs"])),
        legacy=bool(row["legacy"]),
        decode_error=row["decode_error"],
        level=row["level"],
        judgement=judgement_of(row["judgement"]),
        judged_at=row["judged_at"],
    )


def judgement_of(text: str | None) -> Judgement | None:
    """A stored judgement; one this version cannot read (written by another) is judged again."""
    if not text:
        return None
    try:
        return Judgement.model_validate_json(text)
    except ValidationError:
        return None
