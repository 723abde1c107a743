"""The provider's request parameters, read and checked apart from any HTTP: InputError says what is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from omareview.errors import InputError

__all__ = ["MAX_PAGE", "ReviewsQuery", "reviews_query", "whole_number"]

MAX_PAGE = 100


def whole_number(value: str | None, default: int, top: int) -> int:
    """An ASCII whole number of at most 12 digits, capped at `top` (`default` when absent)."""
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise InputError(f"{value[:20]!r} is not a whole number of at most 12 digits")
    return min(int(value), top)


@dataclass(frozen=True)
class ReviewsQuery:
    """What `GET /reviews` asks for.

    Parameters:
        resource: the service URL (or DID) whose reviews are asked for.
        pay_to: the `payTo` address whose services' reviews are asked for (with no `resource`).
        min_level: the lowest level to list.
        limit: how many reviews per page (1 to MAX_PAGE).
        offset: how many to skip.
    """

    resource: str | None
    pay_to: str | None
    min_level: str | None
    limit: int
    offset: int


def reviews_query(params: Mapping[str, str]) -> ReviewsQuery:
    """The query of `GET /reviews`: `resource` or `payTo`, and the page."""
    resource, pay_to = params.get("resource") or None, params.get("payTo") or None
    if not resource and not pay_to:
        raise InputError("name the service: ?resource=<URL> or ?payTo=<address>")
    return ReviewsQuery(
        resource=resource,
        pay_to=pay_to,
        min_level=params.get("minLevel"),
        limit=max(whole_number(params.get("limit"), 20, MAX_PAGE), 1),
        offset=whole_number(params.get("offset"), 0, 10**9),
    )
