"""The outbox: a durable local ledger of receipts and of the reviews made from them.

SQLite in WAL mode with `synchronous=FULL`, so an entry is on disk before the call that wrote it returns.
Receipts are keyed by their digest (never by signature bytes). An entry moves
`pending → submitting → done` (or `rejected`); `submitting` is written before a transaction is sent, so
after a crash the submitter knows to look on-chain before sending again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from omareview._home import home_dir
from omareview._sqlite import Database
from omareview._wire import WireModel

__all__ = ["Outbox", "OutboxEntry", "Status"]

Status = Literal["pending", "submitting", "done", "rejected"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    digest       TEXT PRIMARY KEY,
    receipt      TEXT NOT NULL,
    offer        TEXT,
    subject      TEXT,
    payer        TEXT,
    resource_url TEXT,
    status       TEXT NOT NULL,
    draft        TEXT,
    network      TEXT,
    uid          TEXT,
    tx_hash      TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_status ON entries(status);
"""


class OutboxEntry(WireModel):
    """One captured receipt and its way to a review. The JSON form leaves out the artifacts themselves."""

    digest: str
    receipt: dict[str, Any] = Field(exclude=True)
    offer: dict[str, Any] | None = Field(exclude=True)
    subject: str | None
    payer: str | None
    resource_url: str | None
    status: Status
    draft: dict[str, Any] | None
    network: str | None
    uid: str | None
    tx_hash: str | None
    attempts: int
    last_error: str | None
    created_at: int
    updated_at: int


def _loads(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


class Outbox:
    """One outbox file of captured receipts and the reviews made from them; safe to share between threads
    and processes.

    Parameters:
        path: the SQLite file (None: `$OMAREVIEW_HOME/outbox.sqlite3`).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or home_dir() / "outbox.sqlite3"
        self._database = Database(self.path, _SCHEMA, synchronous="FULL")

    def close(self) -> None:
        self._database.close()

    def add(
        self,
        digest: str,
        receipt: dict[str, Any],
        *,
        offer: dict[str, Any] | None = None,
        subject: str | None = None,
        payer: str | None = None,
        resource_url: str | None = None,
        status: Status = "pending",
        error: str | None = None,
    ) -> tuple[OutboxEntry, bool]:
        """Record a receipt once; returns the entry and whether it is new. A known digest is left alone."""
        now = int(time.time())
        with self._database.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO entries (digest, receipt, offer, subject, payer, resource_url, status, "
                "last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    digest,
                    json.dumps(receipt, separators=(",", ":"), ensure_ascii=False),
                    json.dumps(offer, separators=(",", ":"), ensure_ascii=False) if offer is not None else None,
                    subject,
                    payer,
                    resource_url,
                    status,
                    error,
                    now,
                    now,
                ),
            )
            created = cursor.rowcount == 1
        entry = self.get(digest)
        assert entry is not None
        return entry, created

    def get(self, digest: str) -> OutboxEntry | None:
        row = self._database.connection().execute("SELECT * FROM entries WHERE digest = ?", (digest,)).fetchone()
        return self._entry(row) if row is not None else None

    def entries(self, status: Status | None = None) -> list[OutboxEntry]:
        query = "SELECT * FROM entries" + (" WHERE status = ?" if status else "") + " ORDER BY created_at, digest"
        return [self._entry(row) for row in self._database.connection().execute(query, (status,) if status else ())]

    def update(self, digest: str, **changes: Any) -> OutboxEntry:
        """Set fields of an entry (`status`, `draft`, `network`, `uid`, `tx_hash`, `last_error`, `attempts`)."""
        allowed = {"status", "draft", "network", "uid", "tx_hash", "last_error", "attempts"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot update {', '.join(sorted(unknown))}")
        if "draft" in changes and changes["draft"] is not None:
            changes["draft"] = json.dumps(changes["draft"], separators=(",", ":"), ensure_ascii=False)
        assignments = ", ".join(f"{name} = ?" for name in changes)
        with self._database.transaction() as db:
            db.execute(
                f"UPDATE entries SET {assignments}, updated_at = ? WHERE digest = ?",
                (*changes.values(), int(time.time()), digest),
            )
        entry = self.get(digest)
        if entry is None:
            raise KeyError(digest)
        return entry

    @staticmethod
    def _entry(row: sqlite3.Row) -> OutboxEntry:
        return OutboxEntry(
            digest=row["digest"],
            receipt=_loads(row["receipt"]),
            offer=_loads(row["offer"]),
            subject=row["subject"],
            payer=row["payer"],
            resource_url=row["resource_url"],
            status=row["status"],
            draft=_loads(row["draft"]),
            network=row["network"],
            uid=row["uid"],
            tx_hash=row["tx_hash"],
            attempts=row["attempts"],
            last_error=row["last_error"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
