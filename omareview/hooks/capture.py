"""Capturing receipts as an agent pays: the offers of each 402, the receipt of each paid response.

Every receipt is verified (signature and payload; no network) and committed to the outbox before the
response is handed back to the agent, so it is never lost. Nothing here raises into the agent's request: a
bad or missing receipt is logged and recorded as `rejected`. A `rating_policy(response, receipt)` may return
a `ReviewDraft`, which the submitter later turns into a review.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from omareview._cache import ExpiringCache
from omareview._json import JsonMapping, loads_untrusted
from omareview.errors import OmaReviewError
from omareview.identity._b64 import decode_header_value
from omareview.identity.dids import subject_did_from_url
from omareview.identity.jws import parse_compact
from omareview.review.outbox import Outbox, ReviewDraft, WriteLink, WriteLinks
from omareview.x402.load import LoadedArtifact, load_artifacts
from omareview.x402.reviews import write_links
from omareview.x402.verify import VerifyOptions, artifact_digest, verify_artifact

__all__ = [
    "MAX_REMEMBERED_OFFERS",
    "RECEIPT_HEADERS",
    "REQUIRED_HEADER",
    "CaptureEvent",
    "RatingPolicy",
    "ReceiptCapture",
    "ReviewDraft",
    "log",
]

log = logging.getLogger("omareview.hooks")
RECEIPT_HEADERS = ("payment-response", "x-payment-response")
REQUIRED_HEADER = "payment-required"
MAX_REMEMBERED_OFFERS = 256
#: How long a 402's signed offers wait for the receipt of the payment they priced.
OFFER_MEMORY_S = 3600.0


@dataclass(frozen=True)
class CaptureEvent:
    kind: Literal["offers", "receipt", "rejected"]
    url: str
    digest: str | None = None
    detail: str = ""


RatingPolicy = Callable[[Any, LoadedArtifact], ReviewDraft | None]


def _key_needs_network(receipt: LoadedArtifact) -> bool:
    """A JWS whose key is only named by a did:web kid cannot be checked without fetching its DID document."""
    if receipt.envelope.get("format") != "jws":
        return False
    try:
        header = parse_compact(receipt.envelope["signature"]).header
    except OmaReviewError:
        return False
    return "jwk" not in header and str(header.get("kid", "")).lower().startswith("did:web:")


def _review_links(carrier: str | JsonMapping) -> WriteLinks | None:
    """The settlement's `write` links by the extension's rules (any provider: the allowlist applies when one
    is followed), kept as data."""
    try:
        settlement = (
            carrier
            if isinstance(carrier, Mapping)
            else loads_untrusted(decode_header_value(carrier), what="the settlement response", max_bytes=64 * 1024)
        )
    except (OmaReviewError, ValueError):
        return None
    links = write_links(settlement if isinstance(settlement, Mapping) else None, None)
    if not links.links:
        return None
    providers = [WriteLink(provider=k.provider, write=k.url, description=k.description) for k in links.links]
    return WriteLinks(providers=providers, user_question=links.user_question)


class ReceiptCapture:
    """The part of the hook that does not depend on an HTTP library: it reads offers and receipts from
    responses, verifies them and keeps them in the outbox.

    Parameters:
        outbox: where receipts go (None: the default outbox).
        rating_policy: called with each paid response and its receipt; a `ReviewDraft` it returns is kept
            with the receipt. The response is None where the capture runs in the x402 package's hooks
            (`attach`), which never see it; `paying_client` and `install_hook` on httpx pass it.
        on_event: called with each capture event, for logs or metrics.
    """

    def __init__(
        self,
        outbox: Outbox | None = None,
        *,
        rating_policy: RatingPolicy | None = None,
        on_event: Callable[[CaptureEvent], None] | None = None,
    ) -> None:
        self.outbox = outbox or Outbox()
        self.rating_policy = rating_policy
        self.on_event = on_event
        self._offers: ExpiringCache[str, list[LoadedArtifact]] = ExpiringCache(OFFER_MEMORY_S, MAX_REMEMBERED_OFFERS)

    def _emit(self, event: CaptureEvent) -> None:
        log.info("%s %s %s %s", event.kind, event.url, event.digest or "", event.detail)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:
                log.exception("the on_event callback failed")

    def observe(
        self, url: str, status: int, headers: Mapping[str, str], body: bytes | None, response: Any = None
    ) -> None:
        """Look at one response. Never raises."""
        try:
            lowered = {k.lower(): v for k, v in headers.items()}
            if status == 402:
                self._remember_offers(url, lowered, body)
            for name in RECEIPT_HEADERS:
                if name in lowered:
                    self._capture_receipt(url, lowered[name], response)
                    break
        except Exception:
            log.exception("capturing the x402 artifacts of %s failed", url)

    def observe_payment(
        self,
        url: str,
        settle_response: JsonMapping | None,
        payment_required: JsonMapping | None = None,
        response: Any = None,
    ) -> None:
        """Look at one payment as an x402 client's hooks see it: the parsed 402 (its signed offers) and the
        settlement response (its signed receipt, network and transaction). Never raises."""
        try:
            if payment_required:
                self._remember_offers_in(url, payment_required)
            if settle_response:
                self._capture_receipt(url, settle_response, response)
        except Exception:
            log.exception("capturing the x402 artifacts of %s failed", url)

    def _remember_offers(self, url: str, headers: Mapping[str, str], body: bytes | None) -> None:
        self._remember_offers_in(url, headers.get(REQUIRED_HEADER) or body)

    def _remember_offers_in(self, url: str, carrier: str | bytes | JsonMapping | None) -> None:
        if not carrier:
            return
        try:
            offers = load_artifacts(carrier, f"402 from {url}", kind="offer")
        except OmaReviewError as exc:
            log.info("the 402 from %s carries no usable signed offer: %s", url, exc)
            return
        self._offers.put(subject_did_from_url(url), offers)
        self._emit(CaptureEvent("offers", url, detail=f"{len(offers)} signed offer(s)"))

    def _offer_for(self, receipt: LoadedArtifact, subject: str) -> LoadedArtifact | None:
        offers = list(self._offers.get(subject) or ())
        resource = (receipt.envelope.get("payload") or {}).get("resourceUrl")
        exact = [o for o in offers if (o.envelope.get("payload") or {}).get("resourceUrl") == resource]
        candidates = exact or offers
        return candidates[0] if candidates else None

    def _reject(self, url: str, raw: str, reason: str) -> None:
        digest = "sha256:" + hashlib.sha256(raw.encode("utf-8", errors="replace")).hexdigest()
        self.outbox.add(digest, {"raw": raw[:4096]}, resource_url=url, status="rejected", error=reason)
        self._emit(CaptureEvent("rejected", url, digest, reason))

    def _capture_receipt(self, url: str, carrier: str | JsonMapping, response: Any) -> None:
        try:
            receipts = load_artifacts(carrier, f"PAYMENT-RESPONSE from {url}", kind="receipt")
        except OmaReviewError as exc:
            self._reject(url, carrier if isinstance(carrier, str) else json.dumps(carrier, default=str), str(exc))
            return
        for receipt in receipts:
            result = verify_artifact(receipt, VerifyOptions(authorize=False))
            deferred = not result.valid and _key_needs_network(receipt)
            payload = result.payload or (parse_compact(receipt.envelope["signature"]).payload if deferred else None)
            if (not result.valid and not deferred) or payload is None:
                self._reject(
                    url, json.dumps(receipt.envelope), result.errors[0] if result.errors else "invalid receipt"
                )
                continue
            subject = result.subject or subject_did_from_url(str(payload.get("resourceUrl")))
            digest = artifact_digest(receipt)
            offer = self._offer_for(receipt, subject)
            _, created = self.outbox.add(
                digest,
                receipt.envelope,
                offer=offer.envelope if offer is not None else None,
                subject=subject,
                payer=str(payload.get("payer")),
                resource_url=str(payload.get("resourceUrl")),
                error=f"signature not checked yet: {result.errors[0]}" if deferred else None,
                settlement=receipt.settlement,
                review_links=_review_links(carrier),
            )
            if created and self.rating_policy is not None:
                draft = self.rating_policy(response, receipt)
                if draft is not None:
                    self.outbox.update(digest, draft=draft)
            self._emit(CaptureEvent("receipt", url, digest, "recorded" if created else "already recorded"))
