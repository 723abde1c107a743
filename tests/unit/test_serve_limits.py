"""The provider's abuse limits: request rates per key and the relayer's gas budget."""

from __future__ import annotations

from typing import Any

import pytest

from omareview.serve import GasBudget, RateLimiter
from tests.helpers import Clock


def test_a_rate_limiter_allows_a_burst_then_refills() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60.0, clock=clock)
    assert [limiter.allow("a") for _ in range(3)] == [None, None, None]
    wait = limiter.allow("a")
    assert wait is not None and 19 < wait <= 20
    assert limiter.allow("b") is None, "each key has its own bucket"
    clock.now += 20
    assert limiter.allow("a") is None and limiter.allow("a") is not None


def test_the_gas_budget_reserves_each_send_s_estimate_then_settles_what_was_used() -> None:
    clock = Clock()
    budget = GasBudget(1_000_000, per_s=3600, clock=clock)
    first, second = budget.take(400_000), budget.take(400_000)
    assert first is not None and second is not None
    assert budget.take(400_000) is None, "two reservations leave no room for a third"
    assert budget.take(200_000) is not None, "a smaller estimate still fits"
    assert budget.take(1) is None
    budget.settle(first, 150_000)
    budget.settle(second, 0)
    assert budget.left() == 650_000
    assert budget.take(600_000) is not None, "what was not spent is free again"
    assert budget.take(2_000_000) is None, "an estimate above the whole budget never fits"
    clock.now += 3601
    assert budget.left() == 1_000_000, "a new window"


def _review(**fields: Any) -> Any:
    """An indexed review for the page tests: fixed identifiers, the fields given."""
    from omareview.index.summary import IndexedReview

    base: dict[str, Any] = {
        "uid": "0x" + "11" * 32,
        "attester": "0x" + "22" * 20,
        "time": 1_800_000_000,
        "version": "",
        "screenshot_urls": [],
        "block_number": 1,
        "tx_hash": "0x" + "33" * 32,
    }
    return IndexedReview(**{**base, **fields})


def test_the_page_shows_responses_under_their_review_escaped() -> None:
    from omareview.index.summary import ReviewResponse, summarize
    from omareview.serve.page import render_reviews_page

    review = _review(
        rating_value=4,
        review_body="ok",
        level="verified",
        responses=[
            ReviewResponse(
                uid="0xa",
                responder="0x" + "44" * 20,
                time=1_800_000_100,
                response_body="Thanks <b>!</b>",
                counted=True,
                tier="witness",
            ),
            ReviewResponse(
                uid="0xb", responder="0x" + "55" * 20, time=1_800_000_200, response_body="fake", counted=False
            ),
        ],
    )
    page = render_reviews_page(summarize("did:web:svc.example", [review]), base="", previous=None, next_page=None)
    assert "Thanks &lt;b&gt;!&lt;/b&gt;" in page and "the service's answer" in page
    assert "by 0x" + "55" * 20 + ", not shown to be the service" in page


def test_the_page_neutralizes_direction_controls_and_names_the_canonical_subject() -> None:
    from omareview.index.summary import summarize
    from omareview.serve.page import render_reviews_page

    review = _review(rating_value=5, review_body="download invoice\u202egnp.exe now\u2066x\u2069", level="paid")
    page = render_reviews_page(
        summarize("did:web:xn--bcher-kva.example", [review]), base="", previous=None, next_page=None
    )
    assert "\u202e" not in page and "\u2066" not in page and "\u2069" not in page
    assert "download invoice\ufffdgnp.exe now" in page
    assert "<h1>Reviews of xn--bcher-kva.example</h1>" in page, "the heading is the subject's ASCII host"
    assert "<title>Reviews of xn--bcher-kva.example</title>" in page


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("unix-socket", "unix-socket"),
    ],
)
def test_rate_limit_buckets_are_per_ipv4_address_and_per_ipv6_64(address: str, key: str) -> None:
    from omareview.serve.limits import client_key

    assert client_key(address) == key


@pytest.mark.parametrize("value", ["²", "١٢", "9" * 5000, "1e3", "-1", " 1"])
def test_page_numbers_are_ascii_digits_of_bounded_length(value: str) -> None:
    from omareview.errors import InputError
    from omareview.serve.requests import whole_number

    with pytest.raises(InputError, match="is not a whole number"):
        whole_number(value, 0, 100)
