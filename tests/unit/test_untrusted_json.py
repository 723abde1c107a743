"""The untrusted-JSON loader: its depth count (made on the text, before parsing) agrees with the parsed
value's nesting whatever the strings hold, and lone surrogates are refused however they arrive."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omareview._json import UntrustedJsonError, check_depth, loads_untrusted

# Strings full of what confuses a bracket counter: quotes, backslashes, brackets, escapes.
TRICKY = st.text(alphabet='[]{}"\\\\/ \\nab\u00e9\U0001f600', max_size=12)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TRICKY, children, max_size=3),
    max_leaves=30,
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@given(VALUES, st.integers(min_value=0, max_value=8), st.booleans())
def test_the_text_depth_count_agrees_with_the_value(value: Any, limit: int, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    for form in (text, text.encode("utf-8")):
        if _depth(value) > limit:
            with pytest.raises(UntrustedJsonError, match=f"nested {_depth(value)} levels deep"):
                check_depth(form, limit)
        else:
            check_depth(form, limit)
            assert loads_untrusted(form, max_depth=max(limit, 1)) == value


@pytest.mark.parametrize(
    "data",
    ['["\\ud800"]', '{"\\udfff": 1}', b'["\\uDBFF"]', '["\\ud83d\\ude00", "\\udc00"]', '["\ud800"]'],
    ids=["escaped", "in a key", "bytes, upper case", "a pair then a lone one", "a raw one in a str"],
)
def test_lone_surrogates_are_refused(data: str | bytes) -> None:
    with pytest.raises(UntrustedJsonError, match="lone surrogate"):
        loads_untrusted(data)


def test_a_surrogate_pair_and_an_escaped_backslash_are_fine() -> None:
    assert loads_untrusted('["\\ud83d\\ude00", "\\\\ud800"]') == ["\U0001f600", "\\ud800"]
