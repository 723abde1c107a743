"""Posting a delegated attestation to an OMATrust-compatible relay (`POST {relay}/v1/delegated-attest`).

Redirects are followed with the method and body kept (the public relay answers 302 before it answers), at
most five times. Relay error codes become clear errors: refusals exit 1, relay or chain trouble exit 3.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import httpx

from omareview._json import loads_untrusted
from omareview.eas.client import Submitted
from omareview.eas.delegation import DelegatedAttestation
from omareview.errors import InputError, ServiceError

__all__ = ["MAX_REDIRECTS", "RELAY_TIMEOUT_S", "relay_delegated"]

MAX_REDIRECTS = 5
RELAY_TIMEOUT_S = 60.0
_REFUSALS = {
    "SIGNATURE_EXPIRED": "the signature's deadline passed before the relay sent it",
    "INVALID_SIGNATURE": "the relay found the signature invalid",
    "ATTESTER_MISMATCH": "the relay says the signature is not the attester's",
    "SCHEMA_NOT_SUBSIDIZED": "the relay does not pay for this schema",
    "DUPLICATE": "the relay has already sent this signature",
}


def relay_delegated(
    relay_url: str, delegated: DelegatedAttestation, *, timeout_s: float = RELAY_TIMEOUT_S
) -> Submitted:
    url = relay_url.rstrip("/") + "/v1/delegated-attest"
    body = delegated.relay_body().to_json()
    try:
        with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                response = client.post(url, json=body)
                if not response.is_redirect:
                    break
                url = urljoin(url, response.headers.get("location", ""))
            else:
                raise ServiceError(f"the relay redirected more than {MAX_REDIRECTS} times", reason="relay-failed")
    except httpx.HTTPError as exc:
        raise ServiceError(
            f"cannot reach the relay at {relay_url} ({type(exc).__name__}: {exc})", reason="relay-failed"
        ) from exc
    reply = _json(response)
    if response.status_code >= 400 or not reply.get("success", False):
        code = str(reply.get("code") or reply.get("error") or "")
        detail = str(reply.get("message") or reply.get("error") or response.text[:200])
        if code in _REFUSALS or 400 <= response.status_code < 500:
            raise InputError(
                f"the relay refused the attestation: {_REFUSALS.get(code, detail)} ({code or response.status_code})",
                reason="relay-failed",
            )
        raise ServiceError(f"the relay failed (HTTP {response.status_code}): {detail}", reason="relay-failed")
    uid, tx_hash = reply.get("uid"), reply.get("txHash")
    if not isinstance(uid, str) or not isinstance(tx_hash, str):
        raise ServiceError("the relay answered success without a uid and txHash", reason="relay-failed")
    return Submitted(
        uid=uid.lower(),
        tx_hash=tx_hash,
        block_number=int(reply.get("blockNumber") or 0),
        gas_used=int(reply.get("gasUsed") or 0),
        attester=delegated.attester,
        recipient=delegated.request.recipient.lower(),
        schema_uid=delegated.schema_uid,
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = loads_untrusted(response.content, what="the relay's answer", max_bytes=64 * 1024)
    except InputError:
        return {}
    return value if isinstance(value, dict) else {}
