"""Finds signed offers and receipts in whatever carries them.

Accepted: a bare envelope `{"format", "signature"[, "payload"]}`; a SettleResponse (its
`extensions["offer-receipt"].info.receipt`); a PaymentRequired or v1 402 body (`.info.offers[]`); the
base64 value of a `PAYMENT-RESPONSE`, `X-PAYMENT-RESPONSE` or `PAYMENT-REQUIRED` header; an OMATrust proof
wrapper (`proofObject`); an MCP `_meta` object; a bare compact JWS. The envelope is kept exactly as received:
it is what goes on-chain as proof.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic_core
from pydantic import ValidationError

from omareview._files import read_regular
from omareview._json import JsonMapping, JsonObject, loads_untrusted
from omareview.errors import InputError
from omareview.identity._b64 import decode_header_value
from omareview.identity.jws import looks_like_compact_jws, parse_compact
from omareview.x402.eip712 import ArtifactKind
from omareview.x402.required import PaymentRequirement

__all__ = [
    "A2A_RECEIPTS",
    "A2A_REQUIRED",
    "MAX_ARTIFACT_BYTES",
    "MAX_INPUT_BYTES",
    "MCP_PAYMENT_RESPONSE",
    "OFFER_RECEIPT",
    "LoadedArtifact",
    "load_artifacts",
    "load_artifacts_from_path",
]

OFFER_RECEIPT = "offer-receipt"
MAX_INPUT_BYTES = 8 * 1024 * 1024
MAX_ARTIFACT_BYTES = 64 * 1024
MCP_PAYMENT_RESPONSE = "x402/payment-response"
A2A_REQUIRED = "x402.payment.required"
A2A_RECEIPTS = "x402.payment.receipts"


@dataclass(frozen=True)
class LoadedArtifact:
    """One signed offer or receipt and where it was found.

    Attributes:
        kind: `offer` or `receipt`.
        envelope: the signed envelope exactly as received (what goes on-chain as proof).
        source: where it was found, for messages.
        accepts: the 402's `accepts[]` beside an offer.
        resource_url: the 402's resource URL beside an offer.
        settlement: the (network, transaction) of the settlement response a receipt came in, when known.
    """

    kind: ArtifactKind
    envelope: JsonObject
    source: str
    accepts: tuple[PaymentRequirement, ...] = field(default=())
    resource_url: str | None = None
    settlement: tuple[str, str] | None = None


def _kind_of_envelope(envelope: JsonMapping) -> ArtifactKind:
    payload = envelope.get("payload")
    if envelope.get("format") == "jws" and isinstance(envelope.get("signature"), str):
        payload = parse_compact(envelope["signature"]).payload
    if isinstance(payload, Mapping):
        if "payer" in payload or "issuedAt" in payload:
            return "receipt"
        if "payTo" in payload or "scheme" in payload:
            return "offer"
    raise InputError("the signed artifact's payload is neither an offer nor a receipt", reason="unreadable-artifact")


def _is_envelope(value: JsonMapping) -> bool:
    return "format" in value and "signature" in value


def _extension_info(message: JsonMapping) -> JsonMapping | None:
    extensions = message.get("extensions")
    if not isinstance(extensions, Mapping):
        return None
    block = extensions.get(OFFER_RECEIPT)
    if not isinstance(block, Mapping) or not isinstance(block.get("info"), Mapping):
        return None
    info: JsonMapping = block["info"]
    return info


def _from_settle_response(message: JsonMapping, source: str) -> list[LoadedArtifact]:
    if message.get("success") is False:
        reason = message.get("errorReason") or message.get("errorMessage") or "no reason given"
        raise InputError(
            f"the settlement failed ({reason}); a failed settlement carries no receipt", reason="unreadable-artifact"
        )
    info = _extension_info(message)
    receipt = info.get("receipt") if info is not None else None
    if not isinstance(receipt, Mapping):
        raise InputError(
            "this settlement response carries no signed receipt "
            f"(the server did not enable the {OFFER_RECEIPT} extension)",
            reason="unreadable-artifact",
        )
    loaded = _envelope(receipt, "receipt", source + " → receipt")
    network, transaction = message.get("network"), message.get("transaction")
    if isinstance(network, str) and isinstance(transaction, str) and network and transaction:
        # The settlement always names its transaction, even when the signed receipt leaves it out.
        loaded = dataclasses.replace(loaded, settlement=(network, transaction))
    return [loaded]


def _from_payment_required(message: JsonMapping, source: str) -> list[LoadedArtifact]:
    info = _extension_info(message)
    offers = info.get("offers") if info is not None else None
    if not isinstance(offers, list) or not offers:
        raise InputError(
            f"this payment-required message carries no signed offers (no {OFFER_RECEIPT} offers)",
            reason="unreadable-artifact",
        )
    listed = message.get("accepts")
    if listed is not None and not isinstance(listed, list):
        raise InputError(
            f"the payment-required message's accepts is a {type(listed).__name__}, not a list",
            reason="unreadable-artifact",
        )
    accepts = tuple(_requirements(listed or []))
    resource = message.get("resource")
    resource_url = resource.get("url") if isinstance(resource, Mapping) else None
    loaded = []
    for index, offer in enumerate(offers):
        if not isinstance(offer, Mapping):
            raise InputError(
                f"offer {index} of the payment-required message is not an object", reason="unreadable-artifact"
            )
        artifact = _envelope(offer, "offer", f"{source} → offers[{index}]")
        loaded.append(LoadedArtifact("offer", artifact.envelope, artifact.source, accepts, resource_url))
    return loaded


def _requirements(listed: list[Any]) -> Iterator[PaymentRequirement]:
    """The `accepts[]` entries that read as payment requirements (the others say nothing about an offer)."""
    for entry in listed:
        with contextlib.suppress(ValidationError):
            yield PaymentRequirement.model_validate(entry)


def _envelope(value: JsonMapping, expected: ArtifactKind | None, source: str) -> LoadedArtifact:
    if not _is_envelope(value):
        raise InputError(f"{source}: a signed artifact needs format and signature", reason="unreadable-artifact")
    # Its size is that of its compact UTF-8 JSON, measured by pydantic-core (three times faster than the
    # json module for an envelope, which counts when a file holds tens of thousands).
    if len(pydantic_core.to_json(value)) > MAX_ARTIFACT_BYTES:
        raise InputError(
            f"{source}: the signed artifact is larger than {MAX_ARTIFACT_BYTES // 1024} KiB",
            reason="unreadable-artifact",
        )
    if value["format"] not in ("eip712", "jws"):
        raise InputError(
            f"{source}: unknown signature format {value['format']!r} (expected eip712 or jws)",
            reason="unreadable-artifact",
        )
    kind = _kind_of_envelope(value)
    if expected is not None and kind != expected:
        raise InputError(f"{source}: expected a signed {expected}, found a signed {kind}", reason="unreadable-artifact")
    return LoadedArtifact(kind, dict(value), source)


def _from_proof_wrapper(wrapper: JsonMapping, source: str) -> list[LoadedArtifact]:
    proof_type = wrapper.get("proofType")
    expected: dict[str, ArtifactKind] = {"x402-receipt": "receipt", "x402-offer": "offer"}
    if not isinstance(proof_type, str) or proof_type not in expected:
        raise InputError(f"proof type {proof_type!r} carries no x402 artifact", reason="unreadable-artifact")
    inner = wrapper["proofObject"]
    if isinstance(inner, str):
        text = inner.strip()
        inner = {"format": "jws", "signature": text} if looks_like_compact_jws(text) else _parse_json(text, source)
    if not isinstance(inner, Mapping):
        raise InputError(f"{source}: proofObject is not an object", reason="unreadable-artifact")
    return [_envelope(inner, expected[proof_type], f"{source} → proofObject")]


def _from_object(value: object, source: str) -> list[LoadedArtifact]:
    if isinstance(value, list):
        return [artifact for index, item in enumerate(value) for artifact in _from_object(item, f"{source}[{index}]")]
    if not isinstance(value, Mapping):
        raise InputError(
            f"{source}: expected a JSON object, found {type(value).__name__}", reason="unreadable-artifact"
        )
    if _is_envelope(value):
        return [_envelope(value, None, source)]
    if "proofType" in value and "proofObject" in value:
        return _from_proof_wrapper(value, source)
    meta = value.get("_meta")
    if isinstance(meta, Mapping) and MCP_PAYMENT_RESPONSE in meta:
        return _from_object(meta[MCP_PAYMENT_RESPONSE], f"{source} → _meta")
    a2a = value.get("metadata") if isinstance(value.get("metadata"), Mapping) else value
    if isinstance(a2a, Mapping) and (A2A_RECEIPTS in a2a or A2A_REQUIRED in a2a):
        return _from_a2a(a2a, source)
    if "success" in value:
        return _from_settle_response(value, source)
    if "accepts" in value or "x402Version" in value:
        return _from_payment_required(value, source)
    raise InputError(
        f"{source}: not an x402 offer, receipt, settlement response or payment-required message",
        reason="unreadable-artifact",
    )


def _from_a2a(metadata: JsonMapping, source: str) -> list[LoadedArtifact]:
    """A2A task or message metadata: `x402.payment.required` (a PaymentRequired) and
    `x402.payment.receipts` (a list of SettleResponses, each able to carry a signed receipt)."""
    found: list[LoadedArtifact] = []
    required = metadata.get(A2A_REQUIRED)
    if isinstance(required, Mapping):
        found += _from_payment_required(required, f"{source} → {A2A_REQUIRED}")
    receipts = metadata.get(A2A_RECEIPTS)
    for index, settlement in enumerate(receipts if isinstance(receipts, list) else []):
        if isinstance(settlement, Mapping) and _extension_info(settlement) is not None:
            found += _from_settle_response(settlement, f"{source} → {A2A_RECEIPTS}[{index}]")
    if not found:
        raise InputError(f"{source}: the A2A metadata carries no signed offer or receipt", reason="unreadable-artifact")
    return found


def _parse_json(text: str, source: str) -> object:
    return loads_untrusted(text, what=source, max_bytes=MAX_INPUT_BYTES)


def _decode_base64(text: str) -> str | None:
    try:
        raw = decode_header_value(text)
        return raw.decode("utf-8") if raw.strip().startswith(b"{") else None
    except (ValueError, UnicodeDecodeError):
        return None


def load_artifacts(
    value: str | bytes | JsonMapping | list[Any], source: str = "input", *, kind: ArtifactKind | None = None
) -> list[LoadedArtifact]:
    """Every signed offer and receipt in `value` (text, bytes, or parsed JSON), or only those of `kind`.

    Raises InputError with a one-line reason when the input holds no artifact or is not understood; with
    `kind`, the list may be empty (the input held only artifacts of the other kind).
    """
    found = _load_all(value, source)
    return found if kind is None else [artifact for artifact in found if artifact.kind == kind]


def _load_all(value: str | bytes | JsonMapping | list[Any], source: str) -> list[LoadedArtifact]:
    if isinstance(value, Mapping | list):
        return _from_object(value, source)
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(f"{source} is larger than {MAX_INPUT_BYTES // 1024 // 1024} MiB", reason="unreadable-artifact")
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise InputError(f"{source} is not UTF-8 text", reason="unreadable-artifact") from None
    if not text:
        raise InputError(f"{source} is empty", reason="unreadable-artifact")
    if text[0] in "{[":
        return _from_object(_parse_json(text, source), source)
    if looks_like_compact_jws(text):
        return [_envelope({"format": "jws", "signature": text}, None, f"{source} (compact JWS)")]
    decoded = _decode_base64(text)
    if decoded is not None:
        return _from_object(_parse_json(decoded, source), f"{source} (base64)")
    raise InputError(
        f"{source} is neither JSON, a base64 x402 header value, nor a compact JWS", reason="unreadable-artifact"
    )


def load_artifacts_from_path(path: str, *, kind: ArtifactKind | None = None) -> list[LoadedArtifact]:
    """Load from a file path, or standard input for `-` (`kind` as in `load_artifacts`)."""
    import sys

    if path == "-":
        return load_artifacts(sys.stdin.buffer.read(MAX_INPUT_BYTES + 1), "stdin", kind=kind)
    return load_artifacts(read_regular(Path(path), MAX_INPUT_BYTES, path), path, kind=kind)
