"""The counted average's history (the page's chart and `averageHistory`): a running average in time order,
thinned to a bounded number of points that always ends on today's average."""

from __future__ import annotations

from omareview.index.summary import HISTORY_POINTS, IndexedReview, average_history
from omareview.serve.page import _history_chart


def _review(time: int, rating: int) -> IndexedReview:
    return IndexedReview.model_construct(time=time, rating_value=rating)


def test_a_running_average_in_time_order() -> None:
    points = average_history([_review(30, 1), _review(10, 5), _review(20, 3)])
    assert [(p.time, p.average, p.counted) for p in points] == [(10, 5.0, 1), (20, 4.0, 2), (30, 3.0, 3)]
    assert average_history([]) == []


def test_a_long_history_is_thinned_and_keeps_the_last_point() -> None:
    reviews = [_review(1000 + n, 5 if n % 2 else 1) for n in range(1001)]
    points = average_history(reviews)
    assert len(points) == HISTORY_POINTS
    assert points[-1].counted == 1001 and points[-1].average == round((500 * 5 + 501) / 1001, 2)
    assert [p.time for p in points] == sorted(p.time for p in points)


def test_the_chart_puts_five_stars_at_the_top_and_time_left_to_right() -> None:
    chart = _history_chart(average_history([_review(0, 5), _review(100, 1)]))
    assert chart is not None
    (x1, y1), (x2, y2) = (map(float, pair.split(",")) for pair in chart["points"].split())
    assert x1 < x2 and y1 < y2, "the first point (5.0) is higher and to the left of the second (3.0)"
    assert _history_chart([]) is None
