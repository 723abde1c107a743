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
