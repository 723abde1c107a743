"""The before-payment guard pays only what the gate approved: this resource, network, asset, payTo, amount."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from omareview.gate import Decision, Gate
from omareview.hooks.httpx_hook import _guard

URL = "https://api.example.com/paid"
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
ASSET = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
LIMIT = {"network": "eip155:8453", "asset": ASSET, "payTo": PAY_TO, "amount": "10000"}


def _context(url: str, **changes: str) -> SimpleNamespace:
    """The x402 client's before-payment context, as its hook receives it."""
    requirement = {"network": "eip155:8453", "asset": ASSET, "pay_to": PAY_TO, "amount": "10000", **changes}
    return SimpleNamespace(
        selected_requirements=SimpleNamespace(**requirement),
        payment_required=SimpleNamespace(resource=SimpleNamespace(url=url)),
    )


@pytest.fixture
def guard() -> object:
    gate = Gate()
    decision = Decision(action="pay", url=URL, subject="did:web:api.example.com", limit=LIMIT)
    gate._decisions.put(URL, decision)  # what decide() stores for an approved 402
    return _guard(gate)


def test_the_approved_payment_passes(guard: object) -> None:
    assert callable(guard)
    assert guard(_context(URL)) is None


@pytest.mark.parametrize(
    ("url", "changes"),
    [
        ("https://other.example.com/paid", {}),
        (URL, {"pay_to": "0x000000000000000000000000000000000000dEaD"}),
        (URL, {"asset": "0x0000000000000000000000000000000000000001"}),
        (URL, {"network": "eip155:1"}),
        (URL, {"amount": "10001"}),
    ],
)
def test_anything_else_is_aborted(guard: object, url: str, changes: dict[str, str]) -> None:
    assert callable(guard)
    aborted = guard(_context(url, **changes))
    assert aborted is not None and "omareview gate" in aborted.reason
