"""The store picks each attester's latest unrevoked review in SQL, on both engines, and names the earlier
reviews nobody judged (so the follower stops finding them pending)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from omareview.index._rows import MinedRow, ReviewRow
from omareview.index._store import IndexStore, open_store
from omareview.index.judgement import Judgement

pytestmark = pytest.mark.usefixtures("store_engine")

EAS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
SCHEMA = "0x" + "11" * 32
RECIPIENT = "0x" + "ab" * 20


def _review(uid: int, attester: str, time: int, block: int, log_index: int = 0, **extra: Any) -> ReviewRow:
    mined = {
        "uid": f"0x{uid:064x}",
        "schema_uid": SCHEMA,
        "attester": attester,
        "recipient": RECIPIENT,
        "time": time,
        "revocation_time": 0,
        "block_number": block,
        "block_hash": f"0x{block:064x}",
        "tx_hash": f"0x{uid:064x}",
        "log_index": log_index,
    }
    return ReviewRow(
        MinedRow(**{**mined, **extra}),
        subject="did:web:shop.example",
        version="1",
        rating_value=4,
        review_body=f"review {uid}",
    )


def test_each_attesters_latest_unrevoked_review_newest_first(tmp_path: Path) -> None:
    a, b, c = "0x" + "0a" * 20, "0x" + "0b" * 20, "0x" + "0c" * 20
    rows = [
        _review(1, a, 100, 10),
        _review(2, a, 200, 20),
        _review(3, a, 200, 20, log_index=1),  # same time and block as 2: the later log wins
        _review(4, b, 150, 15),
        _review(5, b, 300, 30, revocation_time=310),  # revoked: b's earlier review stands
        _review(6, c, 250, 25),
        _review(7, c, 90, 9, schema_uid="0x" + "22" * 32),  # another schema: not counted
    ]
    store = open_store("devnet", 31337, EAS, home=tmp_path)
    try:
        with store.transaction() as tx:
            assert IndexStore.upsert(tx, rows) == 7
        store.save_judgements([(f"0x{1:064x}", "signed", Judgement(), 1)])
        latest, superseded = store.latest_reviews_of(RECIPIENT, [SCHEMA])
        assert [int(r.uid, 16) for r in latest] == [6, 3, 4], "newest first"
        assert sorted(int(uid, 16) for uid in superseded) == [2], "1 was judged; 5 is revoked"
    finally:
        store.close()
