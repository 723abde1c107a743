"""The index's store: reviews keyed by UID with their decoded fields and where they were mined (block number
and hash, log index), so a reorg can be undone; each row also keeps its last judged level and when it was
judged. A cursor per schema records how far the chain has been read. The rows' Python forms are in
`index._rows`, the schema's versions in `index._migrations`, and the provider's records (one review per
payment, and who is writing it) in `index._payments`, on `IndexStore.payments`.

By default each network has an embedded SQLite file under `$OMAREVIEW_HOME/index/`; a `postgresql://` store
holds every network in one database that several processes share (`omareview.index._engines`). The schema is
versioned: `MIGRATIONS` lists every version, applied once each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omareview._home import home_dir
from omareview.errors import InputError
from omareview.identity.dids import did_address
from omareview.identity.graph import IdentityAttestation, IdentityKind
from omareview.index._engines import Engine, PostgresEngine, SqliteEngine, Tx, schema_name, store_url
from omareview.index._migrations import MIGRATIONS
from omareview.index._payments import PaymentRecords
from omareview.index._rows import (
    COLUMNS,
    IDENTITY_COLUMNS,
    IDENTITY_NAMES,
    NAMES,
    IdentityRow,
    ReviewRecord,
    ReviewRow,
    StoredReview,
    identity_attestation,
    judgement_of,
    stored_review,
)
from omareview.index.judgement import Judgement

if TYPE_CHECKING:
    from omareview.review.payment import PaidPayment

__all__ = ["IndexStore", "StoreGraph", "database_path", "open_store"]


def database_path(network_name: str, chain_id: int | None, eas_address: str, home: Path | None = None) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", network_name)
    return (home or home_dir()) / "index" / f"{safe}-{chain_id or 'unknown'}-{eas_address.lower()}.sqlite3"


def open_store(
    network_name: str,
    chain_id: int | None,
    eas_address: str,
    *,
    store: str | None = None,
    home: Path | None = None,
) -> IndexStore:
    """The store of one network: `store` (or `$OMAREVIEW_STORE`, or `store` in config.toml) when set, else
    the embedded SQLite file under `home`."""
    url = store_url(store, home)
    if url is None:
        return IndexStore(SqliteEngine(database_path(network_name, chain_id, eas_address, home), MIGRATIONS))
    if url.startswith("sqlite:///"):
        return IndexStore(SqliteEngine(Path(url.removeprefix("sqlite://")), MIGRATIONS))
    return IndexStore(PostgresEngine(url, schema_name(network_name, chain_id, eas_address), MIGRATIONS))


class IndexStore:
    """The index's rows and records over one engine.

    Parameters:
        engine: where the tables live.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.transaction = engine.transaction
        self.payments = PaymentRecords(engine)

    def close(self) -> None:
        self.engine.close()

    def cursors(self) -> dict[str, tuple[int, str | None]]:
        rows = self.engine.rows("SELECT schema_uid, block, block_hash FROM cursors")
        return {row["schema_uid"]: (int(row["block"]), row["block_hash"]) for row in rows}

    @staticmethod
    def set_cursor(tx: Tx, schema_uid: str, block: int, block_hash: str | None) -> None:
        tx.execute(
            "INSERT INTO cursors (schema_uid, block, block_hash) VALUES (?, ?, ?) "
            "ON CONFLICT (schema_uid) DO UPDATE SET block = excluded.block, block_hash = excluded.block_hash",
            (schema_uid, block, block_hash),
        )

    @staticmethod
    def upsert(tx: Tx, rows: Iterable[ReviewRow | IdentityRow]) -> int:
        """Insert reviews and identity attestations (rows with a `kind`), or refresh those whose block
        changed (a reorg moved them; a review's judgement goes); returns how many were new."""
        reviews: list[ReviewRow] = []
        identity: list[IdentityRow] = []
        for row in rows:
            if isinstance(row, IdentityRow):
                identity.append(row)
            else:
                reviews.append(row)
        return IndexStore._upsert_reviews(tx, reviews) + IndexStore._upsert_identity(tx, identity)

    @staticmethod
    def _known(tx: Tx, table: str, uids: Sequence[str]) -> set[str]:
        known: set[str] = set()
        for offset in range(0, len(uids), 500):
            part = uids[offset : offset + 500]
            marks = ", ".join("?" for _ in part)
            known.update(r["uid"] for r in tx.rows(f"SELECT uid FROM {table} WHERE uid IN ({marks})", part))
        return known

    @staticmethod
    def _upsert_identity(tx: Tx, rows: Sequence[IdentityRow]) -> int:
        if not rows:
            return 0
        known = IndexStore._known(tx, "identity", [row.mined.uid for row in rows])
        updates = ", ".join(f"{name} = excluded.{name}" for name in IDENTITY_NAMES[1:])
        tx.executemany(
            f"INSERT INTO identity ({IDENTITY_COLUMNS}) VALUES ({', '.join('?' for _ in IDENTITY_NAMES)}) "
            f"ON CONFLICT (uid) DO UPDATE SET {updates} WHERE identity.block_hash <> excluded.block_hash",
            [row.columns() for row in rows],
        )
        return sum(row.mined.uid not in known for row in rows)

    @staticmethod
    def set_revocations(tx: Tx, revocations: Iterable[tuple[str, int, int | None, str | None]]) -> None:
        """Record (uid, revocation time, block and hash of the `Revoked` log, None when it is gone)."""
        tx.executemany(
            "UPDATE identity SET revocation_time = ?, revoked_block = ?, revoked_block_hash = ? WHERE uid = ?",
            [(at, block, block_hash, uid) for uid, at, block, block_hash in revocations],
        )

    @staticmethod
    def _upsert_reviews(tx: Tx, rows: Sequence[ReviewRow]) -> int:
        batch = [row.columns() for row in rows]
        if not batch:
            return 0
        known = IndexStore._known(tx, "reviews", [str(row[0]) for row in batch])
        updates = ", ".join(f"{name} = excluded.{name}" for name in NAMES[1:])
        tx.executemany(
            f"INSERT INTO reviews ({COLUMNS}) VALUES ({', '.join('?' for _ in NAMES)}) ON CONFLICT (uid) DO UPDATE "
            f"SET {updates}, level = NULL, judgement = NULL, judged_at = NULL "
            "WHERE reviews.block_hash <> excluded.block_hash",
            batch,
        )
        return sum(uid not in known for uid in {row[0] for row in batch})

    @staticmethod
    def in_window(tx: Tx, from_block: int, schemas: Sequence[str]) -> dict[str, tuple[str, int]]:
        """What was mined from `from_block` on, keyed as the logs are (`AttestedLog.key`): each review's and
        identity attestation's UID, and `revoked:<uid>` for each revocation → (block hash, block number)."""
        marks = ", ".join("?" for _ in schemas)
        found: dict[str, tuple[str, int]] = {}
        for table in ("reviews", "identity"):
            rows = tx.rows(
                f"SELECT uid, block_hash, block_number FROM {table} "
                f"WHERE block_number >= ? AND schema_uid IN ({marks})",
                (from_block, *schemas),
            )
            found.update({row["uid"]: (row["block_hash"], int(row["block_number"])) for row in rows})
        rows = tx.rows(
            "SELECT uid, revoked_block_hash, revoked_block FROM identity WHERE revoked_block >= ?", (from_block,)
        )
        found.update({f"revoked:{row['uid']}": (row["revoked_block_hash"], int(row["revoked_block"])) for row in rows})
        return found

    @staticmethod
    def delete(tx: Tx, uids: Iterable[str]) -> int:
        """Remove reviews and identity attestations a reorg took away."""
        return sum(
            tx.execute("DELETE FROM reviews WHERE uid = ?", (uid,))
            + tx.execute("DELETE FROM identity WHERE uid = ?", (uid,))
            for uid in uids
        )

    def responses_to(self, uids: Sequence[str]) -> dict[str, list[IdentityAttestation]]:
        """The User Review Responses naming each of these reviews (by their `refUID`)."""
        found: dict[str, list[IdentityAttestation]] = {}
        wanted = {uid.lower(): uid for uid in uids}
        for offset in range(0, len(uids), 500):
            part = list(uids[offset : offset + 500])
            marks = ", ".join("?" for _ in part)
            rows = self.engine.rows(
                f"SELECT uid, kind, attester, time, revocation_time, fields, ref FROM identity "
                f"WHERE kind = 'user-review-response' AND decode_error IS NULL AND ref IN ({marks}) "
                "ORDER BY time, block_number, log_index",
                [uid.lower() for uid in part],
            )
            for row in rows:
                found.setdefault(wanted[str(row["ref"])], []).append(identity_attestation(row))
        return found

    def identity_rows(self, column: str, value: str, kind: str) -> list[IdentityAttestation]:
        """The identity attestations of `kind` whose `column` (recipient, attester or ref) is `value`."""
        assert column in ("recipient", "attester", "ref")
        rows = self.engine.rows(
            f"SELECT uid, kind, attester, time, revocation_time, fields FROM identity "
            f"WHERE {column} = ? AND kind = ? AND decode_error IS NULL ORDER BY time, block_number, log_index",
            (value if column == "ref" else value.lower(), kind),
        )
        return [identity_attestation(row) for row in rows]

    def reviews_of(self, recipient: str, schemas: Sequence[str]) -> list[StoredReview]:
        marks = ", ".join("?" for _ in schemas)
        rows = self.engine.rows(
            f"SELECT * FROM reviews WHERE recipient = ? AND schema_uid IN ({marks}) "
            "ORDER BY time, block_number, log_index",
            (recipient.lower(), *schemas),
        )
        return [stored_review(row) for row in rows]

    def latest_reviews_of(self, recipient: str, schemas: Sequence[str]) -> tuple[list[StoredReview], list[str]]:
        """Each attester's latest unrevoked review of `recipient`, newest first (what a subject's listing
        shows, picked by the database so that earlier reviews are never decoded), and the UIDs of the earlier
        ones never judged (superseded before anyone looked)."""
        marks = ", ".join("?" for _ in schemas)
        ranked = (
            "(SELECT *, ROW_NUMBER() OVER (PARTITION BY attester "
            "ORDER BY time DESC, block_number DESC, log_index DESC) AS newest "
            f"FROM reviews WHERE recipient = ? AND schema_uid IN ({marks}) AND revocation_time = 0) AS ranked"
        )
        parameters = (recipient.lower(), *schemas)
        latest = self.engine.rows(
            f"SELECT * FROM {ranked} WHERE newest = 1 ORDER BY time DESC, block_number DESC, log_index DESC",
            parameters,
        )
        superseded = self.engine.rows(f"SELECT uid FROM {ranked} WHERE newest > 1 AND judged_at IS NULL", parameters)
        return [stored_review(row) for row in latest], [row["uid"] for row in superseded]

    def save_judgements(self, judged: Iterable[tuple[str, str, Judgement, int]]) -> None:
        with self.transaction() as tx:
            tx.executemany(
                "UPDATE reviews SET level = ?, judgement = ?, judged_at = ? WHERE uid = ?",
                [(level, judgement.to_json_text(), at, uid) for uid, level, judgement, at in judged],
            )

    def mark_superseded(self, uids: Iterable[str], at: int) -> None:
        """Reviews a later review by the same attester replaced: seen at `at`, never judged (nothing shows
        them), so the follower stops finding them pending."""
        with self.transaction() as tx:
            tx.executemany("UPDATE reviews SET judged_at = ? WHERE uid = ?", [(at, uid) for uid in uids])

    def review_naming(self, tx_hash: str, attester: str) -> str | None:
        """The UID of an indexed review by `attester` backed by transaction `tx_hash`: judged so (its
        payment evidence names it), or naming it in a proof (a receipt's `transaction`, an older review's
        `tx-interaction` pointer)."""
        pattern = f"%{tx_hash.lower()}%"
        found = self.engine.rows(
            "SELECT uid FROM reviews WHERE attester = ? AND (lower(proofs) LIKE ? OR lower(judgement) LIKE ?) LIMIT 1",
            (attester.lower(), pattern, pattern),
        )
        return str(found[0]["uid"]) if found else None

    def subjects_paid_to(self, pay_to: str) -> list[str]:
        """The subjects with a payment-backed review whose money went to `pay_to`."""
        paid_to = self.engine.json_text("judgement", "evidence", "payment", "payTo")
        rows = self.engine.rows(
            f"SELECT DISTINCT subject FROM reviews WHERE level = 'paid' AND lower({paid_to}) = ?", (pay_to.lower(),)
        )
        return sorted(str(row["subject"]) for row in rows)

    def paid_payments(self) -> list[PaidPayment]:
        """The payments behind every review judged `paid`, for the refund watch."""
        from omareview.review.payment import PaidPayment

        rows = self.engine.rows("SELECT uid, attester, judgement FROM reviews WHERE level = 'paid'")
        found = []
        for row in rows:
            judgement = judgement_of(row["judgement"])
            payment = judgement.evidence.payment if judgement is not None and judgement.evidence else None
            if payment is not None and payment.asset and payment.pay_to and payment.block_number is not None:
                found.append(
                    PaidPayment(
                        str(row["uid"]),
                        payment.network,
                        payment.asset,
                        payment.pay_to,
                        str(row["attester"]),
                        payment.block_number,
                    )
                )
        return found

    def unjudge(self, uids: Sequence[str]) -> None:
        """Have these reviews judged again at the next read or follower round."""
        with self.transaction() as tx:
            tx.executemany("UPDATE reviews SET judged_at = NULL WHERE uid = ?", [(uid,) for uid in uids])

    def unjudged_subjects(self) -> list[str]:
        """The subjects with a review not judged yet, or whose judgement waits on a payment."""
        rows = self.engine.rows(
            "SELECT DISTINCT subject FROM reviews WHERE subject IS NOT NULL AND (judged_at IS NULL OR judged_at = 0)"
        )
        return sorted(str(row["subject"]) for row in rows)

    def review(self, uid: str) -> ReviewRecord | None:
        """One indexed review (None when the index has no such UID)."""
        found = self.engine.rows("SELECT * FROM reviews WHERE uid = ?", (uid,))
        return ReviewRecord.of(stored_review(found[0])) if found else None

    def count(self) -> int:
        return int(self.engine.rows("SELECT COUNT(*) AS n FROM reviews")[0]["n"])

    def contents(self) -> list[tuple[Any, ...]]:
        """Every review's chain-derived columns, ordered by UID: what two syncs of one chain must agree on."""
        rows = self.engine.rows(f"SELECT {COLUMNS} FROM reviews ORDER BY uid")
        return [tuple(row[name] for name in NAMES) for row in rows]


class StoreGraph:
    """OMATrust's identity graph over an index store (`omareview.identity.graph.IdentityGraph`).

    Parameters:
        store: the store whose `identity` table is read.
    """

    def __init__(self, store: IndexStore) -> None:
        self.store = store

    def about(self, subject: str, kind: IdentityKind) -> Sequence[IdentityAttestation]:
        try:
            recipient = did_address(subject)
        except InputError:
            return []
        return self.store.identity_rows("recipient", recipient, kind)

    def by(self, attester: str, kind: IdentityKind) -> Sequence[IdentityAttestation]:
        return self.store.identity_rows("attester", attester, kind)
