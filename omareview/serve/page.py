"""The reviews page a person reads: server-rendered HTML, escaped throughout (review text is hostile
input), no JavaScript, laid out for a phone first. The heading names the canonical subject, never the URL a
client asked with (`https://trusted-bank.example@localhost/` would print a bank's name over localhost's
reviews), and every value shown has its bidirectional controls neutralized (an RTL override turns
`gnp.exe` into `exe.png` on screen)."""

from __future__ import annotations

import datetime
from functools import cache
from typing import Any

from omareview.identity.dids import web_domain
from omareview.index.context import LEVELS, NOT_COUNTED
from omareview.index.summary import AveragePoint, IndexedReview, SubjectReviews

__all__ = ["BADGES", "render_reviews_page"]

BADGES = {
    "paid": "payment-backed",
    "verified": "verified purchase",
    "signed": "signed receipt",
    "unverified": "unverified",
    "invalid": "invalid",
}


#: Unicode's explicit direction marks, embeddings, overrides and isolates.
_BIDI = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), "\ufffd")


def _neutral(value: Any) -> Any:
    """What the page prints of any value: text with no direction controls (each shown as U+FFFD)."""
    return value.translate(_BIDI) if isinstance(value, str) else value


@cache
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("omareview.serve", "templates"),
        autoescape=select_autoescape(default=True),
        finalize=_neutral,
    )
    environment.filters["date"] = lambda t: datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%d")
    return environment


def _paid_amount(review: IndexedReview) -> str | None:
    payment = review.evidence.payment if review.evidence is not None else None
    if review.level != "paid" or payment is None or not payment.amount:
        return None
    asset = payment.asset or ""
    return f"{payment.amount} units of {asset[:6]}…{asset[-4:]}" if asset else payment.amount


def _refunded(review: IndexedReview) -> bool:
    payment = review.evidence.payment if review.evidence is not None else None
    return payment is not None and payment.status == "refunded"


#: The chart's drawing box, in SVG units (it scales to the page's width), and its margins (the left one
#: holds the star labels).
_CHART_W, _CHART_H, _CHART_PAD, _CHART_LEFT = 300, 80, 6, 18


def _history_chart(points: list[AveragePoint]) -> dict[str, Any] | None:
    """The counted average's history as an SVG polyline, drawn here so the page needs no script: x is time,
    y the average on the 1-to-5 scale (5 at the top)."""
    if not points:
        return None
    first, last = points[0].time, points[-1].time
    span = max(last - first, 1)

    def x(time: int) -> float:
        width = _CHART_W - _CHART_LEFT - _CHART_PAD
        return _CHART_LEFT + (time - first) / span * width if last > first else _CHART_W / 2

    def y(stars: float) -> float:
        return _CHART_PAD + (5 - stars) / 4 * (_CHART_H - 2 * _CHART_PAD)

    return {
        "width": _CHART_W,
        "height": _CHART_H,
        "points": " ".join(f"{x(p.time):.1f},{y(p.average):.1f}" for p in points),
        "last": {"x": f"{x(last):.1f}", "y": f"{y(points[-1].average):.1f}"},
        "grid": [{"stars": stars, "y": f"{y(stars):.1f}"} for stars in (1, 2, 3, 4, 5)],
        "first_time": first,
        "last_time": last,
        "from_average": points[0].average,
        "to_average": points[-1].average,
    }


def render_reviews_page(result: SubjectReviews, *, base: str, previous: str | None, next_page: str | None) -> str:
    """The page for one subject's reviews; `base` is the provider's path prefix for links."""
    counted = sum(result.histogram.values())
    return str(
        _environment()
        .get_template("reviews.html")
        .render(
            result=result,
            service=web_domain(result.subject) or result.subject,
            base=base,
            counted=counted,
            widest=max(result.histogram.values(), default=0),
            chart=_history_chart(result.average_history),
            badges=BADGES,
            levels=LEVELS,
            paid_amount=_paid_amount,
            refunded=_refunded,
            not_counted=NOT_COUNTED,
            previous=previous,
            next=next_page,
        )
    )
