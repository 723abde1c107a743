"""The provider's request checks and refusals are pure functions: tested without a server."""

from __future__ import annotations

import pytest

from omareview.errors import ChainError, ConfigError, InputError, ServiceError
from omareview.serve.refusals import FIXED_MESSAGES, refusal_of
from omareview.serve.requests import MAX_PAGE, ReviewsQuery, reviews_query


def test_a_refusal_is_chosen_by_reason_where_the_relay_names_one_else_by_class() -> None:
    assert (refusal_of(InputError("expired", reason="signature-expired")).code) == "SIGNATURE_EXPIRED"
    refused = refusal_of(InputError("0xzz is not an address", reason="bad-address"))
    assert (refused.status, refused.code, refused.message) == (400, "BAD_REQUEST", "0xzz is not an address")
    chain = refusal_of(ChainError("https://node.example/KEY timed out"))
    assert (chain.status, chain.code, chain.internal) == (502, "CHAIN_ERROR", True)
    assert chain.message == FIXED_MESSAGES["CHAIN_ERROR"] and "KEY" not in chain.message
    for upstream in (ServiceError("upstream said: secret body"), ConfigError("no key")):
        answer = refusal_of(upstream)
        assert (answer.status, answer.code, answer.message) == (502, "UPSTREAM_ERROR", FIXED_MESSAGES["UPSTREAM_ERROR"])
    pending = refusal_of(ServiceError("not final", reason="payment-pending"))
    assert (pending.status, pending.retry_after) == (503, 15)


def test_the_reviews_query_names_a_service_and_a_bounded_page() -> None:
    assert reviews_query({"resource": "https://api.example.com/x"}) == ReviewsQuery(
        resource="https://api.example.com/x", pay_to=None, min_level=None, limit=20, offset=0
    )
    by_pay_to = reviews_query({"payTo": "0xAB", "limit": "100000", "offset": "3", "minLevel": "paid"})
    assert (by_pay_to.resource, by_pay_to.pay_to, by_pay_to.limit, by_pay_to.offset) == (None, "0xAB", MAX_PAGE, 3)
    assert reviews_query({"resource": "r", "limit": "0"}).limit == 1
    with pytest.raises(InputError, match="name the service"):
        reviews_query({"limit": "5"})
    with pytest.raises(InputError, match="is not a whole number"):
        reviews_query({"resource": "r", "offset": "-1"})
