"""Glue for the `x402` Python package's resource server: signed offers on every 402, a signed receipt on
every successful settlement.

    server.register_extension(OfferReceiptExtension(Eip712Issuer(key)))
    routes = {"GET /paid": RouteConfig(accepts=..., extensions=declare_offer_receipt())}

It implements the package's `ResourceServerExtension` protocol by duck typing, so omareview does not
depend on `x402`; its enrich hooks receive the package's own context objects.
"""

from __future__ import annotations

from typing import Any, ClassVar

from omareview._json import JsonObject
from omareview.errors import InputError
from omareview.x402.issue import Issuer, offer_payload, offer_receipt_extension, receipt_payload
from omareview.x402.load import OFFER_RECEIPT

__all__ = ["OfferReceiptExtension", "declare_offer_receipt", "request_url"]


def declare_offer_receipt(*, include_transaction: bool = False, offer_validity_s: int | None = None) -> JsonObject:
    """The route-level declaration (`RouteConfig(extensions=...)`) that switches the extension on."""
    return {OFFER_RECEIPT: {"includeTxHash": include_transaction, "offerValiditySeconds": offer_validity_s}}


def _as_dict(model: Any) -> JsonObject:
    dumped: JsonObject = model.model_dump(by_alias=True) if hasattr(model, "model_dump") else dict(model)
    return dumped


def request_url(context: Any) -> str | None:
    """The URL of the request an extension hook is answering, from the package's transport context."""
    request = getattr(getattr(context, "transport_context", None), "request", None)
    adapter = getattr(request, "adapter", None)
    url = adapter.get_url() if adapter is not None else None
    return str(url) if url else None


class OfferReceiptExtension:
    """An `x402` resource-server extension that signs offers and receipts with an omareview `Issuer`."""

    key = OFFER_RECEIPT
    hooks = None
    transport_hooks = None
    dynamic_info_fields: ClassVar[list[str]] = ["offers"]

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer

    def enrich_declaration(self, declaration: Any, transport_context: Any) -> Any:
        return declaration

    def enrich_payment_required_response(self, declaration: Any, context: Any) -> JsonObject:
        resource = getattr(context, "resource_info", None)
        url = getattr(resource, "url", None) or request_url(context)
        if not url:
            raise InputError(
                "the payment-required response names no resource URL to sign offers for", reason="cannot-issue"
            )
        validity = (declaration or {}).get("offerValiditySeconds")
        offers = [
            self.issuer.sign_offer(offer_payload(str(url), _as_dict(requirements), valid_for_s=validity), index)
            for index, requirements in enumerate(context.requirements)
        ]
        block: JsonObject = offer_receipt_extension(offers=offers)[OFFER_RECEIPT]
        return block

    def enrich_settlement_response(self, declaration: Any, context: Any) -> JsonObject | None:
        result = context.result
        if not getattr(result, "success", False):
            return None
        resource = getattr(context.payment_payload, "resource", None)
        url = request_url(context) or getattr(resource, "url", None)
        if not url or not result.payer or not result.network:
            raise InputError(
                "the settlement names no resource URL, payer or network to sign a receipt for", reason="cannot-issue"
            )
        transaction = result.transaction if (declaration or {}).get("includeTxHash") else None
        payload = receipt_payload(str(url), str(result.payer), str(result.network), transaction=transaction)
        block: JsonObject = offer_receipt_extension(receipt=self.issuer.sign_receipt(payload))[OFFER_RECEIPT]
        return block
