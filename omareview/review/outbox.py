"""The outbox: a durable local ledger of receipts, of the reviews made from them, and of every transaction
signed to write them.

SQLite in WAL mode with `synchronous=FULL`, so an entry is on disk before the call that wrote it returns.
Receipts are keyed by their digest (never by signature bytes). An entry moves
`pending → submitting → done` (or `rejected`, only for a fault in the review itself). Exactly once, by
construction:

- a submitter **claims** entries (owner and lease, in one immediate transaction) before it touches them, so
  two submitters never work on the same receipt; a claim whose owner process is gone is taken over at once;
- the **signed transaction** (raw bytes, hash, nonce) is recorded with the entries it carries *before* it is
  broadcast, so a retry finds it — pending or mined — and rebroadcasts the same bytes instead of signing
  anew; only a transaction that can never be mined (refused by the node, reverted, or its nonce taken by
  another) is written off, and only then are its entries signed again;
- a **delegated signature**'s EAS nonce and deadline are recorded before it leaves for a relay; EAS spends
  an attester's nonces one by one, so while that nonce is unspent a retry signs at the same nonce (only one
  of the two can ever be attested), and once it is spent the chain is read for the review before anything
  is signed again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from omareview._home import home_dir
from omareview._json import JsonObject
from omareview._owners import owner_is_gone
from omareview._sqlite import Database
from omareview._wire import WireModel

__all__ = [
    "CLAIM_LEASE_S",
    "Outbox",
    "OutboxEntry",
    "RecordedDelegation",
    "RecordedSend",
    "ReviewDraft",
    "Status",
    "WriteLink",
    "WriteLinks",
]

CLAIM_LEASE_S = 600

Status = Literal["pending", "submitting", "done", "rejected"]

# Digests looked up per statement (SQLite's default limit on bound parameters is far above it).
_LOOKUP_CHUNK = 500
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
CREATE TABLE IF NOT EXISTS sends (
    tx_hash    TEXT PRIMARY KEY,
    raw        TEXT NOT NULL,
    nonce      INTEGER NOT NULL,
    sender     TEXT NOT NULL,
    digests    TEXT NOT NULL,
    state      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sends_open ON sends(sender, state);
CREATE TABLE IF NOT EXISTS reviewed (
    scope  TEXT NOT NULL,
    digest TEXT NOT NULL,
    uid    TEXT NOT NULL,
    PRIMARY KEY (scope, digest)
);
CREATE TABLE IF NOT EXISTS reviewed_cursor (
    scope TEXT PRIMARY KEY,
    block INTEGER NOT NULL
);
"""
_ADDED_COLUMNS = (
    "claim_owner TEXT",
    "claim_expires INTEGER",
    "payment_network TEXT",
    "payment_tx TEXT",
    "review_links TEXT",
    "delegation TEXT",
)


@dataclass(frozen=True)
class RecordedSend:
    """A signed transaction recorded before broadcast, with the entries (in request order) it carries.

    Attributes:
        tx_hash: its hash.
        raw: the signed bytes, rebroadcast as they are.
        nonce: its account nonce.
        sender: the sending address.
        digests: the outbox digests of the reviews it attests, in request order.
        state: `sent` (may be pending or mined), `settled` (mined and recorded) or `void` (can never be mined).
    """

    tx_hash: str
    raw: bytes
    nonce: int
    sender: str
    digests: tuple[str, ...]
    state: Literal["sent", "settled", "void"]


@dataclass(frozen=True)
class RecordedDelegation:
    """A delegated attestation signed for an entry, recorded before it left for a relay.

    Attributes:
        attester: the signing wallet (lowercase).
        nonce: the attester's EAS nonce it was signed at.
        deadline: the Unix time after which EAS refuses it.
    """

    attester: str
    nonce: int
    deadline: int


class ReviewDraft(WireModel):
    """What the agent would say about a paid call; checked against the User Review limits when submitted.

    Parameters:
        rating: 1 to 5.
        body: the review text (at most 500 characters).
        screenshots: screenshot URLs.
        version: the reviewed service version.
    """

    rating: int
    body: str = ""
    screenshots: tuple[str, ...] = ()
    version: str = ""

    def __init__(self, rating: int, body: str = "", screenshots: tuple[str, ...] = (), version: str = "") -> None:
        super().__init__(rating=rating, body=body, screenshots=screenshots, version=version)


class WriteLink(WireModel):
    """One provider that takes a review of the payment (data from the settlement, not an instruction).

    Attributes:
        provider: the provider's host.
        write: its write URL.
        description: the server's description of it.
    """

    provider: str
    write: str
    description: str | None = None


class WriteLinks(WireModel):
    """Where a payment can be reviewed, from its settlement's `reviews` block.

    Attributes:
        providers: the providers that take a review of it.
        user_question: the settlement's question for a person (data), if any.
    """

    providers: list[WriteLink]
    user_question: str | None = None


class OutboxEntry(WireModel):
    """One captured receipt and its way to a review. The JSON form leaves out the artifacts themselves.

    Attributes:
        digest: the receipt's digest (its key).
        receipt: the signed receipt as received.
        offer: the signed offer for the same payment, when one was seen.
        subject: the subject DID.
        payer: the receipt's payer.
        resource_url: the paid resource.
        status: `pending`, `submitting`, `done` or `rejected`.
        draft: the review drafted for it.
        network: the review network it was submitted on.
        uid: the review's attestation UID, once done.
        tx_hash: the transaction carrying (or that carried) the review.
        attempts: how many submissions failed.
        last_error: the latest failure.
        created_at: when it was captured.
        updated_at: when it last changed.
        payment_network: the settlement's network (CAIP-2).
        payment_tx: the settlement's transaction.
        review_links: where the payment can be reviewed, from the settlement's `reviews` block (data, not
            instructions).
    """

    digest: str
    receipt: JsonObject = Field(exclude=True)
    offer: JsonObject | None = Field(exclude=True)
    subject: str | None
    payer: str | None
    resource_url: str | None
    status: Status
    draft: ReviewDraft | None
    network: str | None
    uid: str | None
    tx_hash: str | None
    attempts: int
    last_error: str | None
    created_at: int
    updated_at: int
    payment_network: str | None = None
    payment_tx: str | None = None
    review_links: WriteLinks | None = None


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
        with self._database.transaction() as db:
            present = {row["name"] for row in db.execute("PRAGMA table_info(entries)")}
            for column in _ADDED_COLUMNS:
                if column.split()[0] not in present:
                    db.execute(f"ALTER TABLE entries ADD COLUMN {column}")

    def close(self) -> None:
        self._database.close()

    def batch(self) -> AbstractContextManager[sqlite3.Connection]:
        """Group the writes made inside it (on this thread) into one transaction and one commit."""
        return self._database.transaction()

    def add(
        self,
        digest: str,
        receipt: JsonObject,
        *,
        offer: JsonObject | None = None,
        subject: str | None = None,
        payer: str | None = None,
        resource_url: str | None = None,
        status: Status = "pending",
        error: str | None = None,
        settlement: tuple[str, str] | None = None,
        review_links: WriteLinks | None = None,
    ) -> tuple[OutboxEntry, bool]:
        """Record a receipt once (with its settlement's network and transaction, when known); returns the
        entry and whether it is new. A known digest is left alone."""
        now = int(time.time())
        payment_network, payment_tx = settlement or (None, None)
        with self._database.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO entries (digest, receipt, offer, subject, payer, resource_url, status, "
                "last_error, created_at, updated_at, payment_network, payment_tx, review_links) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    payment_network,
                    payment_tx,
                    review_links.to_json_text() if review_links else None,
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

    def update(self, digest: str, **changes: object) -> OutboxEntry:
        """Set fields of an entry (`status`, `draft`, `network`, `uid`, `tx_hash`, `last_error`, `attempts`);
        a draft is a `ReviewDraft` or its JSON form."""
        allowed = {"status", "draft", "network", "uid", "tx_hash", "last_error", "attempts"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot update {', '.join(sorted(unknown))}")
        draft = changes.get("draft")
        if draft is not None:
            changes["draft"] = (
                draft if isinstance(draft, ReviewDraft) else ReviewDraft.model_validate(draft)
            ).to_json_text()
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

    def record_delegation(self, digest: str, delegation: RecordedDelegation) -> None:
        """Record the delegated signature made for an entry, before it is handed to a relay."""
        value = {"attester": delegation.attester.lower(), "nonce": delegation.nonce, "deadline": delegation.deadline}
        with self._database.transaction() as db:
            db.execute(
                "UPDATE entries SET delegation = ?, status = 'submitting', updated_at = ? WHERE digest = ?",
                (json.dumps(value), int(time.time()), digest),
            )

    def delegation_of(self, digest: str) -> RecordedDelegation | None:
        """The delegated signature last recorded for an entry, if any."""
        row = self._database.connection().execute("SELECT delegation FROM entries WHERE digest = ?", (digest,))
        found = row.fetchone()
        if found is None or found[0] is None:
            return None
        value = json.loads(found[0])
        return RecordedDelegation(str(value["attester"]), int(value["nonce"]), int(value["deadline"]))

    def claim(self, digests: list[str], owner: str, lease_s: int = CLAIM_LEASE_S) -> tuple[set[str], set[str]]:
        """Claim the entries not done, rejected or claimed by another live submitter.

        Returns (claimed, held elsewhere). One immediate transaction: two submitters never claim one entry.
        """
        now = int(time.time())
        claimed: set[str] = set()
        elsewhere: set[str] = set()
        with self._database.transaction() as db:
            for digest in digests:
                row = db.execute(
                    "SELECT status, claim_owner, claim_expires FROM entries WHERE digest = ?", (digest,)
                ).fetchone()
                if row is None or row["status"] in ("done", "rejected"):
                    continue
                holder = row["claim_owner"]
                free = (
                    holder is None or holder == owner or (row["claim_expires"] or 0) < now or owner_is_gone(str(holder))
                )
                if not free:
                    elsewhere.add(digest)
                    continue
                db.execute(
                    "UPDATE entries SET claim_owner = ?, claim_expires = ? WHERE digest = ?",
                    (owner, now + lease_s, digest),
                )
                claimed.add(digest)
        return claimed, elsewhere

    def release(self, owner: str) -> None:
        """Give up every claim `owner` holds."""
        with self._database.transaction() as db:
            db.execute("UPDATE entries SET claim_owner = NULL, claim_expires = NULL WHERE claim_owner = ?", (owner,))

    def next_nonce(self, sender: str) -> int:
        """One past the highest nonce of `sender`'s transactions that may still be mined (0 when none)."""
        row = (
            self._database.connection()
            .execute("SELECT MAX(nonce) AS top FROM sends WHERE sender = ? AND state = 'sent'", (sender.lower(),))
            .fetchone()
        )
        return int(row["top"]) + 1 if row["top"] is not None else 0

    def record_send(self, tx_hash: str, raw: bytes, nonce: int, sender: str, digests: list[str]) -> None:
        """Record a signed transaction and mark its entries `submitting` with it, before it is broadcast."""
        now = int(time.time())
        with self._database.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO sends (tx_hash, raw, nonce, sender, digests, state, created_at) "
                "VALUES (?, ?, ?, ?, ?, 'sent', ?)",
                (tx_hash.lower(), raw.hex(), nonce, sender.lower(), json.dumps(digests), now),
            )
            db.executemany(
                "UPDATE entries SET status = 'submitting', tx_hash = ?, updated_at = ? WHERE digest = ?",
                [(tx_hash.lower(), now, digest) for digest in digests],
            )

    def set_send_state(self, tx_hash: str, state: Literal["settled", "void"]) -> None:
        with self._database.transaction() as db:
            db.execute("UPDATE sends SET state = ? WHERE tx_hash = ?", (state, tx_hash.lower()))

    def open_sends(self, digests: list[str]) -> list[RecordedSend]:
        """The transactions that may still be mined and carry any of these entries, oldest first."""
        wanted = set(digests)
        rows = self._database.connection().execute("SELECT * FROM sends WHERE state = 'sent' ORDER BY created_at")
        sends = [self._send(row) for row in rows]
        return [send for send in sends if wanted.intersection(send.digests)]

    def reviewed(self, scope: str, among: Collection[str] | None = None) -> tuple[dict[str, str], int | None]:
        """The receipt digests (→ review UID) an attester's settled on-chain reviews carry, only those `among`
        the given ones when named (looked up by key, so the cost does not grow with the history), and the
        block up to which they are known (`scope` names the chain, EAS, schema and attester)."""
        db = self._database.connection()
        if among is None:
            rows = db.execute("SELECT digest, uid FROM reviewed WHERE scope = ?", (scope,)).fetchall()
        else:
            wanted, rows = list(among), []
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = wanted[start : start + _LOOKUP_CHUNK]
                marks = ", ".join("?" for _ in chunk)
                query = f"SELECT digest, uid FROM reviewed WHERE scope = ? AND digest IN ({marks})"
                rows += db.execute(query, (scope, *chunk)).fetchall()
        found = {row[0]: row[1] for row in rows}
        cursor = db.execute("SELECT block FROM reviewed_cursor WHERE scope = ?", (scope,)).fetchone()
        return found, int(cursor["block"]) if cursor is not None else None

    def remember_reviewed(self, scope: str, found: dict[str, str], block: int) -> None:
        """Add settled digests and move the scope's cursor to `block`."""
        with self._database.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO reviewed (scope, digest, uid) VALUES (?, ?, ?)",
                [(scope, digest, uid) for digest, uid in found.items()],
            )
            db.execute(
                "INSERT INTO reviewed_cursor (scope, block) VALUES (?, ?) "
                "ON CONFLICT(scope) DO UPDATE SET block = excluded.block",
                (scope, block),
            )

    @staticmethod
    def _send(row: sqlite3.Row) -> RecordedSend:
        return RecordedSend(
            tx_hash=row["tx_hash"],
            raw=bytes.fromhex(row["raw"]),
            nonce=row["nonce"],
            sender=row["sender"],
            digests=tuple(json.loads(row["digests"])),
            state=row["state"],
        )

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
            draft=ReviewDraft.model_validate_json(row["draft"]) if row["draft"] else None,
            network=row["network"],
            uid=row["uid"],
            tx_hash=row["tx_hash"],
            attempts=row["attempts"],
            last_error=row["last_error"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            payment_network=row["payment_network"],
            payment_tx=row["payment_tx"],
            review_links=WriteLinks.model_validate_json(row["review_links"]) if row["review_links"] else None,
        )
