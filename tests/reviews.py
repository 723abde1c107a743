"""Helpers for tests that write reviews: receipts signed by a test server key for a given payer, and the
402 a service answers with a signed offer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from omareview.x402 import (
    Eip712Issuer,
    encode_header,
    load_artifacts,
    offer_payload,
    offer_receipt_extension,
    receipt_payload,
)
from omareview.x402.load import LoadedArtifact

SERVER_KEY = "0x" + "42" * 32
SERVER = Eip712Issuer(SERVER_KEY)
RESOURCE = "https://api.example.com/premium-data"


def receipt_for(payer: str, resource: str = RESOURCE, n: int = 0, issuer: Eip712Issuer = SERVER) -> dict[str, Any]:
    payload = receipt_payload(f"{resource}?n={n}" if n else resource, payer, "eip155:31337")
    return issuer.sign_receipt(payload)


def artifact(envelope: dict[str, Any]) -> LoadedArtifact:
    (loaded,) = load_artifacts(envelope)
    return loaded


def write_json(path: Path, value: Any) -> str:
    path.write_text(json.dumps(value))
    return str(path)


def payment_required(issuer: Eip712Issuer, url: str, accepts: dict[str, Any]) -> str:
    """The `PAYMENT-REQUIRED` header of a 402 for `url` offering `accepts`, signed by `issuer`."""
    offer = issuer.sign_offer(offer_payload(url, accepts), accept_index=0)
    message = {
        "x402Version": 2,
        "resource": {"url": url},
        "accepts": [accepts],
        "extensions": offer_receipt_extension(offers=[offer]),
    }
    return encode_header(message)
