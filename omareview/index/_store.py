"""The index's store: reviews keyed by UID with their decoded fields and where they were mined (block number
and hash, log index), so a reorg can be undone; each row also keeps its last judged level and when it was
judged. A cursor per schema records how far the chain has been read. The provider's records live here too:
one review per payment, and who is writing it.

By default each network has an embedded SQLite file under `$OMAREVIEW_HOME/index/`; a `postgresql://` store
holds every network in one database that several processes share (`omareview.index._engines`). The schema is
versioned: `MIGRATIONS` lists every version, applied once each.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from omareview._home import home_dir
from omareview._wire import WireModel
from omareview.errors import InputError
from omareview.identity.dids import did_address
from omareview.identity.graph import IdentityAttestation, IdentityKind
from omareview.index._engines import Engine, PostgresEngine, SqliteEngine, Tx, schema_name, store_url
from omareview.index.judgement import Judgement

if TYPE_CHECKING:
    from omareview.review.payment import PaidPayment

__all__ = [
    "MIGRATIONS",
    "IdentityRow",
    "IndexStore",
    "MinedRow",
    "PaymentClaim",
    "ReviewRecord",
    "ReviewRow",
    "StoreGraph",
    "StoredReview",
    "database_path",
    "open_store",
]

MIGRATIONS: list[tuple[int, list[str]]] = [
    (
        1,
        [
            "CREATE TABLE IF NOT EXISTS cursors (schema_uid TEXT PRIMARY KEY, block BIGINT NOT NULL, block_hash TEXT)",
            """CREATE TABLE IF NOT EXISTS reviews (
                uid             TEXT PRIMARY KEY,
                schema_uid      TEXT NOT NULL,
                attester        TEXT NOT NULL,
                recipient       TEXT NOT NULL,
                time            BIGINT NOT NULL,
                revocation_time BIGINT NOT NULL,
                block_number    BIGINT NOT NULL,
                block_hash      TEXT NOT NULL,
                tx_hash         TEXT NOT NULL,
                log_index       BIGINT NOT NULL,
                subject         TEXT,
                version         TEXT,
                rating_value    BIGINT,
                review_body     TEXT,
                screenshot_urls TEXT NOT NULL DEFAULT '[]',
                proofs          TEXT NOT NULL DEFAULT '[]',
                legacy          BIGINT NOT NULL DEFAULT 0,
                decode_error    TEXT,
                level           TEXT,
                judgement       TEXT,
                judged_at       BIGINT
            )""",
            "CREATE INDEX IF NOT EXISTS reviews_recipient ON reviews(recipient, time)",
            "CREATE INDEX IF NOT EXISTS reviews_attester ON reviews(attester)",
            "CREATE INDEX IF NOT EXISTS reviews_block ON reviews(block_number)",
        ],
    ),
    (
        2,
        [
            """CREATE TABLE IF NOT EXISTS payment_reviews (
                payment TEXT PRIMARY KEY, attester TEXT NOT NULL, state TEXT NOT NULL, uid TEXT,
                claimed_at BIGINT NOT NULL
            )""",
            "CREATE TABLE IF NOT EXISTS relayed_signatures (signature TEXT PRIMARY KEY, relayed_at BIGINT NOT NULL)",
        ],
    ),
    (3, ["CREATE INDEX IF NOT EXISTS reviews_unjudged ON reviews(judged_at)"]),
    (
        4,
        [
            """CREATE TABLE IF NOT EXISTS identity (
                uid                TEXT PRIMARY KEY,
                schema_uid         TEXT NOT NULL,
                kind               TEXT NOT NULL,
                attester           TEXT NOT NULL,
                recipient          TEXT NOT NULL,
                time               BIGINT NOT NULL,
                revocation_time    BIGINT NOT NULL,
                block_number       BIGINT NOT NULL,
                block_hash         TEXT NOT NULL,
                tx_hash            TEXT NOT NULL,
                log_index          BIGINT NOT NULL,
                ref                TEXT,
                fields             TEXT NOT NULL DEFAULT '{}',
                decode_error       TEXT,
                revoked_block      BIGINT,
                revoked_block_hash TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS identity_recipient ON identity(recipient, kind)",
            "CREATE INDEX IF NOT EXISTS identity_attester ON identity(attester, kind)",
            "CREATE INDEX IF NOT EXISTS identity_ref ON identity(ref, kind)",
            "CREATE INDEX IF NOT EXISTS identity_block ON identity(block_number)",
            "CREATE INDEX IF NOT EXISTS identity_revoked ON identity(revoked_block)",
        ],
    ),
    (5, ["ALTER TABLE payment_reviews ADD COLUMN owner TEXT"]),
]
_IDENTITY_COLUMNS = (
    "uid, schema_uid, kind, attester, recipient, time, revocation_time, block_number, block_hash, tx_hash, "
    "log_index, ref, fields, decode_error"
)
_IDENTITY_NAMES = [name.strip() for name in _IDENTITY_COLUMNS.split(",")]
_COLUMNS = (
    "uid, schema_uid, attester, recipient, time, revocation_time, block_number, block_hash, tx_hash, log_index, "
    "subject, version, rating_value, review_body, screenshot_urls, proofs, legacy, decode_error"
)
_NAMES = [name.strip() for name in _COLUMNS.split(",")]


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
        return tuple(values[name] for name in _NAMES)


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
        return tuple(values[name] for name in _IDENTITY_NAMES)


@dataclass(frozen=True)
class PaymentClaim:
    """The outcome of claiming a payment's one review.

    Attributes:
        claimed: this claimant holds it now.
        uid: the review it was written as, when finished.
        owner: who holds it (None for a claim made before owners were recorded).
    """

    claimed: bool
    uid: str | None
    owner: str | None


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
        return cls(
            uid=row.uid,
            schema_uid=row.schema_uid,
            attester=row.attester,
            recipient=row.recipient,
            subject=row.subject,
            time=row.time,
            revocation_time=row.revocation_time,
            block_number=row.block_number,
            tx_hash=row.tx_hash,
            rating_value=row.rating_value,
            review_body=row.review_body,
            version=row.version,
            screenshot_urls=list(row.screenshot_urls),
            proofs=list(row.proofs),
            level=row.level,
            judgement=row.judgement,
        )


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
        updates = ", ".join(f"{name} = excluded.{name}" for name in _IDENTITY_NAMES[1:])
        tx.executemany(
            f"INSERT INTO identity ({_IDENTITY_COLUMNS}) VALUES ({', '.join('?' for _ in _IDENTITY_NAMES)}) "
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
        updates = ", ".join(f"{name} = excluded.{name}" for name in _NAMES[1:])
        tx.executemany(
            f"INSERT INTO reviews ({_COLUMNS}) VALUES ({', '.join('?' for _ in _NAMES)}) ON CONFLICT (uid) DO UPDATE "
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
                found.setdefault(wanted[str(row["ref"])], []).append(_identity(row))
        return found

    def identity_rows(self, column: str, value: str, kind: str) -> list[IdentityAttestation]:
        """The identity attestations of `kind` whose `column` (recipient, attester or ref) is `value`."""
        assert column in ("recipient", "attester", "ref")
        rows = self.engine.rows(
            f"SELECT uid, kind, attester, time, revocation_time, fields FROM identity "
            f"WHERE {column} = ? AND kind = ? AND decode_error IS NULL ORDER BY time, block_number, log_index",
            (value if column == "ref" else value.lower(), kind),
        )
        return [_identity(row) for row in rows]

    def reviews_of(self, recipient: str, schemas: Sequence[str]) -> list[StoredReview]:
        marks = ", ".join("?" for _ in schemas)
        rows = self.engine.rows(
            f"SELECT * FROM reviews WHERE recipient = ? AND schema_uid IN ({marks}) "
            "ORDER BY time, block_number, log_index",
            (recipient.lower(), *schemas),
        )
        return [_stored(row) for row in rows]

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
        return [_stored(row) for row in latest], [row["uid"] for row in superseded]

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

    def claim_payment(self, payment: str, attester: str, owner: str, now: int, lease_s: int) -> PaymentClaim:
        """Claim the one review of `payment` for `attester` as `owner`. One statement, so two claimants
        (threads or processes) never both win. A claim whose sender vanished is taken over once its lease is
        over; a finished one never. When not claimed, says who holds it (or the UID it was written as)."""
        with self.transaction() as tx:
            claimed = tx.execute(
                "INSERT INTO payment_reviews (payment, attester, state, uid, claimed_at, owner) "
                "VALUES (?, ?, 'sending', NULL, ?, ?) ON CONFLICT (payment) DO UPDATE SET "
                "attester = excluded.attester, state = 'sending', uid = NULL, claimed_at = excluded.claimed_at, "
                "owner = excluded.owner WHERE payment_reviews.state <> 'done' AND payment_reviews.claimed_at < ?",
                (payment, attester.lower(), now, owner, now - lease_s),
            )
            if claimed:
                return PaymentClaim(True, None, owner)
            found = tx.rows("SELECT uid, owner FROM payment_reviews WHERE payment = ?", (payment,))
        if not found:
            return PaymentClaim(False, None, None)
        return PaymentClaim(False, found[0]["uid"], found[0]["owner"])

    def take_over_payment(self, payment: str, attester: str, gone: str, owner: str, now: int) -> bool:
        """Take an unfinished claim over from `gone`, an owner known to be dead; False when another
        claimant took it first or it was finished meanwhile."""
        with self.transaction() as tx:
            return bool(
                tx.execute(
                    "UPDATE payment_reviews SET attester = ?, owner = ?, claimed_at = ? "
                    "WHERE payment = ? AND state = 'sending' AND owner = ?",
                    (attester.lower(), owner, now, payment, gone),
                )
            )

    def settle_payment(self, payment: str, uid: str | None) -> None:
        """The claimed review of `payment` is on-chain as `uid` (None: it was not sent; the claim is dropped)."""
        with self.transaction() as tx:
            if uid is None:
                tx.execute("DELETE FROM payment_reviews WHERE payment = ? AND state = 'sending'", (payment,))
            else:
                tx.execute("UPDATE payment_reviews SET state = 'done', uid = ? WHERE payment = ?", (uid, payment))

    def payment_review(self, payment: str, *, in_flight: bool = False) -> str | None:
        """The UID of the review written for `payment`, once it is on-chain; with `in_flight`, also "" while
        one is being written."""
        found = self.engine.rows("SELECT uid, state FROM payment_reviews WHERE payment = ?", (payment,))
        if not found or (found[0]["state"] != "done" and not in_flight):
            return None
        return str(found[0]["uid"] or "")

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
            judgement = _judgement(row["judgement"])
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
        return ReviewRecord.of(_stored(found[0])) if found else None

    def count(self) -> int:
        return int(self.engine.rows("SELECT COUNT(*) AS n FROM reviews")[0]["n"])

    def contents(self) -> list[tuple[Any, ...]]:
        """Every review's chain-derived columns, ordered by UID: what two syncs of one chain must agree on."""
        rows = self.engine.rows(f"SELECT {_COLUMNS} FROM reviews ORDER BY uid")
        return [tuple(row[name] for name in _NAMES) for row in rows]


def _identity(row: Mapping[str, Any]) -> IdentityAttestation:
    return IdentityAttestation(
        uid=row["uid"],
        kind=row["kind"],
        attester=row["attester"],
        time=int(row["time"]),
        revocation_time=int(row["revocation_time"]),
        fields=json.loads(row["fields"]),
    )


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


def _stored(row: Mapping[str, Any]) -> StoredReview:
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
        judgement=_judgement(row["judgement"]),
        judged_at=row["judged_at"],
    )


def _judgement(text: str | None) -> Judgement | None:
    """A stored judgement; one this version cannot read (written by another) is judged again."""
    if not text:
        return None
    try:
        return Judgement.model_validate_json(text)
    except ValidationError:
        return None
