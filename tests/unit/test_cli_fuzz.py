"""Fuzzing the command line's entry points: whatever the input, one `error:` line and a known exit code,
never an `unexpected` error."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omareview.cli.app import run

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=25,
)
artifact_like = st.fixed_dictionaries(
    {"format": st.sampled_from(["eip712", "jws", "x", 5]), "signature": st.text(max_size=140) | st.integers()},
    optional={"payload": json_values | st.fixed_dictionaries({"version": json_values, "issuedAt": json_values})},
)
contents = (
    st.text(max_size=300)
    | json_values.map(json.dumps)
    | artifact_like.map(json.dumps)
    | st.builds(lambda n: "[" * n + "]" * n, st.integers(0, 5000))
)


def _run(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = run(args)
    return code, err.getvalue()


def _one_clean_line(code: int, err: str) -> None:
    assert code in (0, 1, 2, 3), code
    lines = [line for line in err.splitlines() if line.strip()]
    if code != 0:
        assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "unexpected" not in err, err


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=contents, command=st.sampled_from(["receipt", "offer"]))
def test_verify_refuses_anything_in_one_line(content: str, command: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.json"
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
        _one_clean_line(*_run([command, "verify", str(path), "--no-authorize"]))


@settings(max_examples=200, deadline=None)
@given(value=st.text(min_size=1, max_size=120).filter(lambda v: not v.startswith("-")))
def test_subject_refuses_anything_in_one_line(value: str) -> None:
    _one_clean_line(*_run(["subject", value]))
