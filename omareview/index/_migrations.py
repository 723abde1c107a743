"""The index store's schema, by version: each entry applied once, in one transaction (`index._engines`)."""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

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
