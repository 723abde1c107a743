"""Every wire field of the 402, offer, receipt and settlement shapes replaced by each JSON type: the loaders,
the verifier and the review builder refuse with a one-line omareview error, never a Python exception."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from omareview.errors import OmaReviewError
from omareview.review.build import review_from_receipt
from omareview.x402 import VerifyOptions, encode_header
from omareview.x402.issue import offer_payload, offer_receipt_extension
from omareview.x402.load import load_artifacts
from omareview.x402.required import parse_payment_required
from omareview.x402.verify import verify_artifact
from tests.reviews import RESOURCE, SERVER, receipt_for

PAYER = "0x857b06519E91e3A54538791bDbb0E22373e36b66"
ACCEPTS = {
    "scheme": "exact",
    "network": "eip155:31337",
    "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
    "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
    "amount": "10000",
    "maxTimeoutSeconds": 60,
}
#: One of each JSON type, and the numbers and strings that break naive code.
JSON_VALUES: list[Any] = [None, True, 0, -1, 5, 1.5, 1e308, "", "x", "0x", [], [1], {}, {"a": 1}]


def _samples() -> dict[str, Any]:
    receipt = receipt_for(PAYER)
    offer = SERVER.sign_offer(offer_payload(RESOURCE, ACCEPTS), accept_index=0)
    return {
        "receipt": receipt,
        "offer": offer,
        "payment-required": {
            "x402Version": 2,
            "resource": {"url": RESOURCE},
            "accepts": [ACCEPTS],
            "extensions": offer_receipt_extension(offers=[offer]),
        },
        "settlement": {
            "success": True,
            "network": "eip155:31337",
            "transaction": "0x" + "ab" * 32,
            "payer": PAYER,
            "extensions": offer_receipt_extension(receipt=receipt),
        },
        "proof-wrapper": {"proofType": "x402-receipt", "proofPurpose": "commercial-tx", "proofObject": receipt},
    }


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _replaced(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    mutated = copy.deepcopy(document)
    node = mutated
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return mutated


def _exercise(document: Any) -> None:
    """What `receipt verify`, `review build` and `submit-many` do with an input, offline."""
    options = VerifyOptions(authorize=False, now=1_900_000_000)
    for loaded in load_artifacts(document):
        verify_artifact(loaded, options)
        if loaded.kind == "receipt":
            review_from_receipt(loaded, PAYER, rating=5, options=options)
    if isinstance(document, dict) and "accepts" in document:
        parse_payment_required({"payment-required": encode_header(document)}, b"")


@pytest.mark.parametrize("name", sorted(_samples()))
def test_every_field_of_every_type_is_refused_in_one_line(name: str) -> None:
    sample = _samples()[name]
    escaped = []
    for path in _paths(sample):
        for value in JSON_VALUES:
            document = _replaced(sample, path, value)
            try:
                _exercise(document)
            except OmaReviewError as exc:
                assert "\n" not in str(exc), (path, value, str(exc))
            except Exception as exc:  # any other exception is the failure this test looks for
                escaped.append(f"{'.'.join(map(str, path))} = {json.dumps(value)}: {type(exc).__name__}: {exc}")
    assert not escaped, f"{len(escaped)} wrong-type inputs escaped as Python exceptions:\n" + "\n".join(escaped[:40])
