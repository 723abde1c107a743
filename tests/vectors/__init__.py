"""Test vectors as shared JSON files: one copy of each fact, read by every test that uses it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@cache
def load(name: str) -> dict[str, Any]:
    """The vectors in `tests/vectors/<name>.json`."""
    data: dict[str, Any] = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
    return data


X402 = load("x402")
RECEIPT: dict[str, Any] = X402["receipt"]["payload"]
OFFER: dict[str, Any] = X402["offer"]["payload"]
RECEIPT_SIG: str = X402["receipt"]["signature"]
OFFER_SIG: str = X402["offer"]["signature"]
ANVIL0: str = X402["signer"]
ANVIL0_KEY = bytes.fromhex(X402["signerKey"][2:])
JWS_VECTOR: str = X402["jws"]["compact"]
