"""Bringing the index up to date with the chain.

Cold: the adaptive log scanner from the EAS deployment block, then attestation bodies in batches.
Incremental: one JSON-RPC batch asks for the head, the cursor block (to notice a deep reorg) and the logs
of the last `REORG_WINDOW` blocks through `latest`; one more batch fetches the new bodies. Logs carry block
hashes, so a review in the re-read window that is gone, or now in another block, is dropped or replaced:
the index never keeps a ghost review.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from omareview._wire import WireModel
from omareview.eas.abi import Attestation
from omareview.eas.rpc import RpcClient
from omareview.eas.scanner import AttestedLog, LogScanner, attested_logs, attested_topics, fetch_attestations
from omareview.eas.schema_codec import decode_fields
from omareview.errors import ChainError, InputError
from omareview.index._engines import Tx
from omareview.index._rows import IdentityRow, MinedRow, ReviewRow
from omareview.index._store import IndexStore
from omareview.review.model import decode_user_review

__all__ = ["COMMIT_CHUNK", "REORG_WINDOW", "Progress", "SyncResult", "Syncer"]

REORG_WINDOW = 64
COMMIT_CHUNK = 2_000
Progress = Callable[[int, int], None]


class SyncResult(WireModel):
    """What one sync did.

    Attributes:
        from_block: the first block no earlier sync had read (after `to_block` when there was nothing new;
            a scan after a gap or a reorg reports where it started over).
        to_block: the block the index is now synced to.
        added: attestations added or moved.
        removed: attestations a reorg took away.
        round_trips: JSON-RPC requests it took.
    """

    from_block: int
    to_block: int
    added: int
    removed: int
    round_trips: int = Field(exclude=True)


def _mined(log: AttestedLog, attestation: Attestation) -> MinedRow:
    """What every indexed attestation keeps: who, to whom, when, and where it was mined."""
    return MinedRow(
        uid=log.uid,
        schema_uid=log.schema,
        attester=log.attester,
        recipient=log.recipient,
        time=attestation.time,
        revocation_time=attestation.revocation_time,
        block_number=log.block_number,
        block_hash=log.block_hash,
        tx_hash=log.tx_hash,
        log_index=log.log_index,
    )


def _row(log: AttestedLog, attestation: Attestation, schema_strings: dict[str, str], legacy: set[str]) -> ReviewRow:
    mined, old = _mined(log, attestation), log.schema in legacy
    try:
        fields = decode_user_review(attestation.data, schema_strings[log.schema])
    except InputError as exc:
        return ReviewRow(mined, legacy=old, decode_error=str(exc))
    rating = fields.get("ratingValue")
    return ReviewRow(
        mined,
        legacy=old,
        subject=_text(fields.get("subject", "")),
        version=_text(fields.get("version", "")),
        rating_value=rating if isinstance(rating, int) and rating < 2**63 else None,
        review_body=_text(fields.get("reviewBody", "")),
        screenshot_urls=json.dumps(list(fields.get("screenshotUrls", ()))),
        proofs=json.dumps(list(fields.get("proofs", ()))),
    )


def _identity_row(log: AttestedLog, attestation: Attestation, kind: str, schema_string: str) -> IdentityRow:
    mined = _mined(log, attestation)
    try:
        fields = decode_fields(schema_string, attestation.data)
    except InputError as exc:
        return IdentityRow(mined, kind, decode_error=str(exc))
    plain = {name: _plain(value) for name, value in fields.items()}
    ref = next((value for name in _REF_FIELDS if isinstance(value := plain.get(name), str)), None)
    # A response is found by the UID it answers, which is hex: compared in lowercase.
    return IdentityRow(mined, kind, json.dumps(plain), ref.lower() if ref and kind == "user-review-response" else ref)


# The field an identity attestation is looked up by besides its subject: what a response answers, whom a
# link names, which controller a witness saw, which key a binding binds.
_REF_FIELDS = ("refUID", "linkedId", "controller", "keyId")


def _plain(value: object) -> object:
    """Decoded ABI values as JSON: text (NULs replaced), numbers, lists of those."""
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, bool | int):
        return value
    return _text(value)


def _text(value: object) -> str:
    """On-chain text as stored: a NUL (which PostgreSQL's text cannot hold) becomes U+FFFD in either engine."""
    return str(value).replace("\x00", "\ufffd")


@dataclass
class _Work:
    rows: list[ReviewRow | IdentityRow]
    gone: list[str]
    revocations: list[tuple[str, int, int | None, str | None]]


class Syncer:
    def __init__(
        self,
        rpc: RpcClient,
        store: IndexStore,
        eas_address: str,
        deployment_block: int,
        schema_strings: dict[str, str],
        legacy: set[str],
        identity_schemas: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        self.rpc = rpc
        self.store = store
        self.eas_address = eas_address
        self.deployment_block = deployment_block
        self.schema_strings = {uid.lower(): text for uid, text in schema_strings.items()}
        self.legacy = {uid.lower() for uid in legacy}
        self.identity_schemas = {uid.lower(): kind for uid, kind in (identity_schemas or {}).items()}

    @property
    def schemas(self) -> list[str]:
        return sorted({*self.schema_strings, *self.identity_schemas})

    def _prepare(self, logs: Sequence[AttestedLog], gone: Sequence[str]) -> _Work:
        """Everything a commit writes, fetched first: the new or moved attestations' rows, the UIDs a reorg
        took away, and the revocation state of every attestation whose `Revoked` log came or went."""
        attested = [log for log in logs if not log.revoked]
        revoked = {log.uid: log for log in logs if log.revoked}
        unrevoked = [key.removeprefix("revoked:") for key in gone if key.startswith("revoked:")]
        targets = [*revoked, *(uid for uid in unrevoked if uid not in revoked)]
        bodies = fetch_attestations(self.rpc, self.eas_address, [log.uid for log in attested] + targets)
        rows: list[ReviewRow | IdentityRow] = []
        for log, body in zip(attested, bodies, strict=False):
            if not body.time:
                continue
            kind = self.identity_schemas.get(log.schema)
            if kind is None:
                rows.append(_row(log, body, self.schema_strings, self.legacy))
            else:
                rows.append(_identity_row(log, body, kind[0], kind[1]))
        revocations: list[tuple[str, int, int | None, str | None]] = []
        for uid, body in zip(targets, bodies[len(attested) :], strict=True):
            by = revoked.get(uid)
            block, block_hash = (by.block_number, by.block_hash) if by is not None else (None, None)
            revocations.append((uid, body.revocation_time, block, block_hash))
        return _Work(rows, [key for key in gone if not key.startswith("revoked:")], revocations)

    def sync(self, progress: Progress | None = None) -> SyncResult:
        cursors = self.store.cursors()
        known = [cursors.get(schema) for schema in self.schemas]
        if all(cursor is not None for cursor in known) and len({c[0] for c in known if c}) == 1:
            block, block_hash = known[0]  # type: ignore[misc]
            result = self._incremental(block, block_hash)
            if isinstance(result, SyncResult):
                return result
            # A gap wider than the node's log range resumes from the cursor's reorg window; only a reorg
            # deeper than that window rescans from the deployment block.
            window = max(self.deployment_block, block - REORG_WINDOW + 1)
            return self._scan(window if result == "gap" else self.deployment_block, progress)
        start = min((c[0] + 1 for c in known if c is not None), default=self.deployment_block)
        return self._scan(start if all(c is not None for c in known) else self.deployment_block, progress)

    def _incremental(self, cursor: int, cursor_hash: str | None) -> SyncResult | Literal["gap", "reorg"]:
        """The two-round-trip path; `gap` when the node refuses the range (or cannot answer it in one
        batch), `reorg` when the cursor's block is gone: then it cannot be used."""
        sent_before = self.rpc.requests_sent
        window = max(self.deployment_block, cursor - REORG_WINDOW + 1)
        log_filter = {
            "address": self.eas_address,
            "fromBlock": hex(window),
            "toBlock": "latest",
            "topics": attested_topics(self.schemas, revocations=bool(self.identity_schemas)),
        }
        try:
            head_block, cursor_block, raw_logs = self.rpc.batch(
                [
                    ("eth_getBlockByNumber", ["latest", False]),
                    ("eth_getBlockByNumber", [hex(cursor), False]),
                    ("eth_getLogs", [log_filter]),
                ]
            )
        except ChainError:
            return "gap"
        if cursor_block is None or (cursor_hash is not None and str(cursor_block["hash"]).lower() != cursor_hash):
            return "reorg"
        head, head_hash = int(head_block["number"], 16), str(head_block["hash"]).lower()
        logs = attested_logs(raw_logs, self.eas_address)
        return self._apply(window, head, head_hash, logs, sent_before, new_from=cursor + 1)

    def _apply(
        self, window: int, head: int, head_hash: str, logs: list[AttestedLog], sent_before: int, *, new_from: int
    ) -> SyncResult:
        """Commit what the reorg window and the new blocks hold; `new_from` is the first block not indexed
        before (the window's earlier blocks are only checked), which the result reports."""
        logs = [log for log in logs if log.block_number <= head]
        with self.store.transaction() as db:
            stored = self.store.in_window(db, window, self.schemas)
        fresh = {log.key: log.block_hash for log in logs}
        ghosts = [key for key in stored if key not in fresh]
        moved_or_new = [log for log in logs if stored.get(log.key, ("", 0))[0] != log.block_hash]
        return self._finish(new_from, head, head_hash, sent_before, work=self._prepare(moved_or_new, ghosts))

    def _finish(
        self,
        from_block: int,
        head: int,
        head_hash: str,
        sent_before: int,
        *,
        work: _Work | None = None,
        added: int = 0,
        removed: int = 0,
    ) -> SyncResult:
        """The last commit of a sync: its remaining rows in, the attestations gone out, the cursor to `head`."""
        with self.store.transaction() as db:
            if work is not None:
                added, removed = self._write(db, work, added, removed)
            for schema in self.schemas:
                self.store.set_cursor(db, schema, head, head_hash)
        return SyncResult(
            from_block=from_block,
            to_block=head,
            added=added,
            removed=removed,
            round_trips=self.rpc.requests_sent - sent_before,
        )

    def _write(self, db: Tx, work: _Work, added: int, removed: int) -> tuple[int, int]:
        removed += self.store.delete(db, work.gone)
        added += self.store.upsert(db, work.rows)
        self.store.set_revocations(db, work.revocations)
        return added, removed

    def _commit(self, work: tuple[list[AttestedLog], list[str]], added: int, removed: int) -> tuple[int, int]:
        """Write whole blocks: their new attestations and revocations, and what a reorg took from them, in
        one transaction."""
        prepared = self._prepare(*work)
        with self.store.transaction() as db:
            return self._write(db, prepared, added, removed)

    def _scan(self, start: int, progress: Progress | None) -> SyncResult:
        """Scan [start, head], committing as it goes (at most about `COMMIT_CHUNK` new reviews a commit, so
        memory stays flat whatever the chain's length). Commits fall between blocks, and reviews a reorg
        took away go in the commit that brings their block's new contents, so a reader never sees half a
        block. The cursor moves only at the end, so a scan cut short is simply done again."""
        sent_before = self.rpc.requests_sent
        head_block = self.rpc.call("eth_getBlockByNumber", ["latest", False])
        head, head_hash = int(head_block["number"], 16), str(head_block["hash"]).lower()
        with self.store.transaction() as db:
            stored = self.store.in_window(db, start, self.schemas)
        seen: set[str] = set()
        gone: set[str] = set()
        by_height = sorted(stored, key=lambda uid: stored[uid][1])
        checked = 0
        added = removed = 0
        scanner = LogScanner(self.rpc, self.eas_address, progress=progress)
        revocations = bool(self.identity_schemas)
        for through, chunk in scanner.scan_through(start, head, schemas=self.schemas, revocations=revocations):
            logs = [log for log in chunk if log.block_number <= head]
            seen.update(log.key for log in logs)
            by_block: dict[int, tuple[list[AttestedLog], list[str]]] = {}
            for log in logs:
                if stored.get(log.key, ("", 0))[0] != log.block_hash:
                    by_block.setdefault(log.block_number, ([], []))[0].append(log)
            while checked < len(by_height) and stored[by_height[checked]][1] <= through:
                uid = by_height[checked]
                checked += 1
                if uid not in seen:
                    by_block.setdefault(stored[uid][1], ([], []))[1].append(uid)
                    gone.add(uid)
            pending: tuple[list[AttestedLog], list[str]] = ([], [])
            for block in sorted(by_block):
                pending[0].extend(by_block[block][0])
                pending[1].extend(by_block[block][1])
                if len(pending[0]) >= COMMIT_CHUNK:
                    added, removed = self._commit(pending, added, removed)
                    pending = ([], [])
            if pending[0] or pending[1]:
                added, removed = self._commit(pending, added, removed)
        left = [uid for uid in stored if uid not in seen and uid not in gone]
        work = self._prepare([], left)
        return self._finish(start, head, head_hash, sent_before, work=work, added=added, removed=removed)
