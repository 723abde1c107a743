"""The one JSON loader for untrusted input: size and depth are bounded before any recursive code runs.

A process that has loaded eth-account runs with Python's recursion limit raised to 100,000 (py_ecc does
it), so a deeply nested document would overflow the C stack inside `json.loads` and kill the process.
Nesting is therefore counted first, without recursion, on the text with its strings blanked out. Integers
beyond Python's digit limit, lone surrogates and non-finite numbers are refused as well, so nothing
downstream meets them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from itertools import accumulate
from pathlib import Path
from typing import Any, Literal, TypeAlias

from omareview._files import human_size, read_regular
from omareview.errors import InputError

__all__ = [
    "MAX_DEPTH",
    "MAX_UNTRUSTED_BYTES",
    "JsonMapping",
    "JsonObject",
    "UntrustedJsonError",
    "check_depth",
    "load_untrusted_file",
    "loads_untrusted",
]

#: A JSON object whose shape another party owns, handed on as received or as it must be sent: an x402
#: package document omareview decorates, a DID document, a JWS header, EIP-712 typed data for a signer.
#: omareview's own documents are models (`omareview._wire.WireModel`); a test keeps bare `dict[str, Any]`
#: out of every public signature.
JsonObject: TypeAlias = dict[str, Any]
#: The same, read only.
JsonMapping: TypeAlias = Mapping[str, Any]

MAX_DEPTH = 64
MAX_UNTRUSTED_BYTES = 8 * 1024 * 1024
# Nesting is counted on the bytes with their escapes and then their strings taken out. Every step is a C
# pass over the text (bytes.replace, bytes.translate, one regex over what is left), several times faster
# than a regex walking every string: a bulk file of receipts is mostly strings.
_ESCAPED_BACKSLASH, _ESCAPED_QUOTE = b"\\\\", b'\\"'
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'"[]{}')
_STRING = re.compile(rb'"[^"]*"')
_OPENING = frozenset(b"[{")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class UntrustedJsonError(InputError):
    """Untrusted JSON refused by the loader.

    Parameters:
        what: what the input is, for the message.
        detail: the complaint alone (`nested 70 levels deep; …`, the parser's message), for callers that
            word the message their own way.
        reason: `too-large`, `too-deep` or `bad-json`.
    """

    def __init__(self, what: str, detail: str, *, reason: Literal["too-large", "too-deep", "bad-json"]) -> None:
        super().__init__(f"{what} {detail}", reason=reason)
        self.detail = detail


def check_depth(text: str | bytes, max_depth: int = MAX_DEPTH, what: str = "the input") -> None:
    """Refuse JSON text (or its UTF-8 bytes) nested deeper than `max_depth`, counting without recursion."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if b"\\" in data:
        # In JSON text every backslash starts a two-character escape; escaped backslashes go first, so the
        # quotes left after the next step are exactly the strings' delimiters.
        data = data.replace(_ESCAPED_BACKSLASH, b"").replace(_ESCAPED_QUOTE, b"")
    # Taking out adjacent quotes first (an empty string, or two strings made one) leaves the regex little to do.
    brackets = _STRING.sub(b"", data.translate(None, _NOT_STRUCTURE).replace(b'""', b""))
    deepest = max(accumulate(1 if b in _OPENING else -1 for b in brackets), default=0)
    if deepest > max_depth:
        raise UntrustedJsonError(
            what, f"is nested {deepest} levels deep; at most {max_depth} are allowed", reason="too-deep"
        )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_untrusted(
    data: str | bytes, *, what: str = "the input", max_bytes: int = MAX_UNTRUSTED_BYTES, max_depth: int = MAX_DEPTH
) -> Any:
    """Parse untrusted JSON; InputError (reason `too-large`, `too-deep` or `bad-json`) says why not."""
    if len(data) > max_bytes:
        raise UntrustedJsonError(what, f"is larger than {human_size(max_bytes)}", reason="too-large")
    # The depth is counted on the bytes: given as bytes, they are counted as given; given as a str, it is
    # encoded once, which also tells whether it holds a raw lone surrogate (bytes decoded as UTF-8 hold none).
    raw_surrogate = False
    if isinstance(data, bytes):
        raw = data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UntrustedJsonError(what, "is not UTF-8 text", reason="bad-json") from None
    else:
        text = data
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError:
            raw, raw_surrogate = text.encode("utf-8", "surrogatepass"), True
    check_depth(raw, max_depth, what)
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise UntrustedJsonError(
            what, f"is not valid JSON ({exc.msg} at line {exc.lineno})", reason="bad-json"
        ) from None
    except ValueError as exc:
        raise UntrustedJsonError(what, f"is not valid JSON ({_first_line(exc)})", reason="bad-json") from None
    # A lone surrogate can only come from a `\\uD800` to `\\uDFFF` escape, or held raw in a str: only then is
    # the value walked.
    if raw_surrogate or _SURROGATE_ESCAPE.search(text) is not None:
        _refuse_lone_surrogates(value, what)
    return value


def load_untrusted_file(path: Path, max_bytes: int, what: str) -> Any:
    """The JSON in a regular file of at most `max_bytes`, parsed as untrusted; InputError says why not."""
    return loads_untrusted(read_regular(path, max_bytes, what), what=what, max_bytes=max_bytes)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120]


def _refuse_lone_surrogates(value: Any, what: str) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise UntrustedJsonError(what, "holds a lone surrogate in a string", reason="bad-json") from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
