"""base64url without padding, as JOSE and DIDs use it, and tolerant standard base64 for x402 headers."""

from __future__ import annotations

import base64
import binascii

__all__ = ["b64url_decode", "b64url_encode", "decode_header_value"]


def b64url_decode(text: str) -> bytes:
    """Decode unpadded (or padded) base64url; raises ValueError on anything else."""
    if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=" for c in text):
        raise ValueError("not base64url")
    stripped = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except binascii.Error as exc:
        raise ValueError(f"not base64url: {exc}") from exc


def decode_header_value(text: str) -> bytes:
    """Decode an x402 header value: standard base64 as specified, tolerating base64url, missing padding
    and folded whitespace; raises ValueError on anything else."""
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), altchars=b"-_" if "-" in compact else None)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from exc


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
