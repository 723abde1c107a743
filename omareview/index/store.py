"""The local index: SQLite (WAL) under `$OMAREVIEW_HOME/index/`, one database per network and EAS address.

Rows are reviews keyed by UID with their decoded fields and where they were mined (block number and hash,
log index), so a reorg can be undone; each row also keeps its last judged level and when it was judged.
A cursor per schema records how far the chain has been read.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omareview._home import home_dir
from omareview._sqlite import Database

__all__ = ["IndexStore", "StoredReview", "database_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursors (
    schema_uid  TEXT PRIMARY KEY,
    block       INTEGER NOT NULL,
    block_hash  TEXT
);
CREATE TABLE IF NOT EXISTS reviews (
    uid             TEXT PRIMARY KEY,
    schema_uid      TEXT NOT NULL,
    attester        TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    time            INTEGER NOT NULL,
    revocation_time INTEGER NOT NULL,
    block_number    INTEGER NOT NULL,
    block_hash      TEXT NOT NULL,
    tx_hash         TEXT NOT NULL,
    log_index       INTEGER NOT NULL,
    subject         TEXT,
    version         TEXT,
    rating_value    INTEGER,
    review_body     TEXT,
    screenshot_urls TEXT NOT NULL DEFAULT '[]',
    proofs          TEXT NOT NULL DEFAULT '[]',
    legacy          INTEGER NOT NULL DEFAULT 0,
    decode_error    TEXT,
    level           TEXT,
    judgement       TEXT,
    judged_at       INTEGER
);
CREATE INDEX IF NOT EXISTS reviews_recipient ON reviews(recipient, time);
CREATE INDEX IF NOT EXISTS reviews_attester ON reviews(attester);
CREATE INDEX IF NOT EXISTS reviews_block ON reviews(block_number);
CREATE TABLE IF NOT EXISTS payment_reviews (
    payment    TEXT PRIMARY KEY,
    attester   TEXT NOT NULL,
    state      TEXT NOT NULL,
    uid        TEXT,
    claimed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS relayed_signatures (
    signature  TEXT PRIMARY KEY,
    relayed_at INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class StoredReview:
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
    subject: str | None
    version: str | None
    rating_value: int | None
    review_body: str | None
    screenshot_urls: tuple[str, ...]
    proofs: tuple[str, ...]
    legacy: bool
    decode_error: str | None
    level: str | None
    judgement: dict[str, Any] | None
    judged_at: int | None


def database_path(network_name: str, chain_id: int | None, eas_address: str, home: Path | None = None) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", network_name)
    return (home or home_dir()) / "index" / f"{safe}-{chain_id or 'unknown'}-{eas_address.lower()}.sqlite3"


class IndexStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._database = Database(path, _SCHEMA, synchronous="NORMAL")
        self.transaction = self._database.transaction

    def _db(self) -> sqlite3.Connection:
        return self._database.connection()

    def close(self) -> None:
        self._database.close()

    def cursors(self) -> dict[str, tuple[int, str | None]]:
        rows = self._db().execute("SELECT schema_uid, block, block_hash FROM cursors")
        return {row["schema_uid"]: (row["block"], row["block_hash"]) for row in rows}

    @staticmethod
    def set_cursor(db: sqlite3.Connection, schema_uid: str, block: int, block_hash: str | None) -> None:
        db.execute(
            "INSERT INTO cursors (schema_uid, block, block_hash) VALUES (?, ?, ?) "
            "ON CONFLICT(schema_uid) DO UPDATE SET block = excluded.block, block_hash = excluded.block_hash",
            (schema_uid, block, block_hash),
        )

    @staticmethod
    def upsert(db: sqlite3.Connection, rows: Iterable[dict[str, Any]]) -> int:
        """Insert or refresh reviews; returns how many were new."""
        added = 0
        for row in rows:
            exists = db.execute("SELECT block_hash FROM reviews WHERE uid = ?", (row["uid"],)).fetchone()
            if exists is not None and exists["block_hash"] == row["block_hash"]:
                continue
            db.execute("DELETE FROM reviews WHERE uid = ?", (row["uid"],))
            columns = ", ".join(row)
            db.execute(f"INSERT INTO reviews ({columns}) VALUES ({', '.join('?' for _ in row)})", tuple(row.values()))
            added += exists is None
        return added

    @staticmethod
    def in_window(db: sqlite3.Connection, from_block: int, schemas: Sequence[str]) -> dict[str, str]:
        marks = ", ".join("?" for _ in schemas)
        rows = db.execute(
            f"SELECT uid, block_hash FROM reviews WHERE block_number >= ? AND schema_uid IN ({marks})",
            (from_block, *schemas),
        )
        return {row["uid"]: row["block_hash"] for row in rows}

    @staticmethod
    def delete(db: sqlite3.Connection, uids: Iterable[str]) -> int:
        return sum(db.execute("DELETE FROM reviews WHERE uid = ?", (uid,)).rowcount for uid in uids)

    def reviews_of(self, recipient: str, schemas: Sequence[str]) -> list[StoredReview]:
        marks = ", ".join("?" for _ in schemas)
        rows = self._db().execute(
            f"SELECT * FROM reviews WHERE recipient = ? AND schema_uid IN ({marks}) "
            "ORDER BY time, block_number, log_index",
            (recipient.lower(), *schemas),
        )
        return [_stored(row) for row in rows]

    def save_judgements(self, judged: Iterable[tuple[str, str, dict[str, Any], int]]) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE reviews SET level = ?, judgement = ?, judged_at = ? WHERE uid = ?",
                [(level, json.dumps(judgement), at, uid) for uid, level, judgement, at in judged],
            )

    def claim_payment(self, payment: str, attester: str, now: int, lease_s: int) -> tuple[bool, str | None]:
        """Claim the one review of `payment` for `attester`: (claimed, UID of the review it already has). A claim
        whose sender vanished is taken over once its lease is over; a finished one never."""
        with self.transaction() as db:
            row = db.execute("SELECT state, uid, claimed_at FROM payment_reviews WHERE payment = ?", (payment,))
            found = row.fetchone()
            if found is not None and (found["state"] == "done" or now - found["claimed_at"] < lease_s):
                return False, found["uid"]
            db.execute(
                "INSERT OR REPLACE INTO payment_reviews (payment, attester, state, uid, claimed_at) "
                "VALUES (?, ?, 'sending', NULL, ?)",
                (payment, attester.lower(), now),
            )
        return True, None

    def settle_payment(self, payment: str, uid: str | None) -> None:
        """The claimed review of `payment` is on-chain as `uid` (None: it was not sent; the claim is dropped)."""
        with self.transaction() as db:
            if uid is None:
                db.execute("DELETE FROM payment_reviews WHERE payment = ? AND state = 'sending'", (payment,))
            else:
                db.execute("UPDATE payment_reviews SET state = 'done', uid = ? WHERE payment = ?", (uid, payment))

    def payment_review(self, payment: str) -> str | None:
        """The UID of the review written for `payment`, once it is on-chain."""
        row = self._db().execute("SELECT uid FROM payment_reviews WHERE payment = ? AND state = 'done'", (payment,))
        found = row.fetchone()
        return str(found["uid"]) if found is not None else None

    def claim_signature(self, signature: str, now: int) -> bool:
        """Record a relayed signature; False when it was relayed before."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO relayed_signatures (signature, relayed_at) VALUES (?, ?)",
                (signature.lower(), now),
            )
            return cursor.rowcount == 1

    def review_naming(self, tx_hash: str, attester: str) -> str | None:
        """The UID of an indexed review by `attester` whose proofs name transaction `tx_hash`."""
        row = self._db().execute(
            "SELECT uid FROM reviews WHERE attester = ? AND instr(lower(proofs), ?) > 0 LIMIT 1",
            (attester.lower(), tx_hash.lower()),
        )
        found = row.fetchone()
        return str(found["uid"]) if found is not None else None

    def subjects_paid_to(self, pay_to: str) -> list[str]:
        """The subjects with a payment-backed review whose money went to `pay_to`."""
        rows = self._db().execute(
            "SELECT DISTINCT subject FROM reviews WHERE level = 'paid' "
            "AND lower(json_extract(judgement, '$.evidence.payment.payTo')) = ?",
            (pay_to.lower(),),
        )
        return sorted(str(row["subject"]) for row in rows)

    def unjudged_subjects(self) -> list[str]:
        """The subjects with a review not judged yet, or whose judgement waits on a payment."""
        rows = self._db().execute(
            "SELECT DISTINCT subject FROM reviews WHERE subject IS NOT NULL AND (level IS NULL OR judged_at = 0)"
        )
        return sorted(str(row["subject"]) for row in rows)

    def review(self, uid: str) -> dict[str, Any] | None:
        """One indexed review as a JSON document (None when the index has no such UID)."""
        row = self._db().execute("SELECT * FROM reviews WHERE uid = ?", (uid,)).fetchone()
        if row is None:
            return None
        found = _stored(row)
        return {
            "uid": found.uid,
            "schemaUid": found.schema_uid,
            "attester": found.attester,
            "recipient": found.recipient,
            "subject": found.subject,
            "time": found.time,
            "revocationTime": found.revocation_time,
            "blockNumber": found.block_number,
            "txHash": found.tx_hash,
            "ratingValue": found.rating_value,
            "reviewBody": found.review_body,
            "version": found.version,
            "screenshotUrls": list(found.screenshot_urls),
            "proofs": list(found.proofs),
            "level": found.level,
            "judgement": found.judgement,
        }

    def count(self) -> int:
        return int(self._db().execute("SELECT COUNT(*) FROM reviews").fetchone()[0])


def _stored(row: sqlite3.Row) -> StoredReview:
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
        judgement=json.loads(row["judgement"]) if row["judgement"] else None,
        judged_at=row["judged_at"],
    )
