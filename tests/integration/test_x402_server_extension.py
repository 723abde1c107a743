"""The x402 package's resource-server extension point, driven with the package's own context types."""

from __future__ import annotations

import time

from x402.schemas import PaymentPayload, PaymentRequired, PaymentRequirements, ResourceInfo, SettleResponse
from x402.schemas.hooks import ServerPaymentRequiredContext, SettleResultContext

from omareview.x402 import (
    Eip712Issuer,
    OfferReceiptExtension,
    VerifyOptions,
    declare_offer_receipt,
    load_artifacts,
    verify_artifact,
)

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
PAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
REQUIREMENTS = PaymentRequirements(
    scheme="exact",
    network="eip155:31337",
    asset="0x5FbDB2315678afecb367f032d93F642f64180aa3",
    amount="10000",
    pay_to="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    max_timeout_seconds=60,
    extra={"name": "USD Coin", "version": "2"},
)
RESOURCE = ResourceInfo(url="http://127.0.0.1:8402/paid")


def test_offers_are_signed_into_the_402_and_verify() -> None:
    extension = OfferReceiptExtension(Eip712Issuer(KEY))
    declaration = declare_offer_receipt()["offer-receipt"]
    context = ServerPaymentRequiredContext(
        requirements=[REQUIREMENTS],
        resource_info=RESOURCE,
        error=None,
        payment_required_response=PaymentRequired(x402_version=2, resource=RESOURCE, accepts=[REQUIREMENTS]),
    )
    block = extension.enrich_payment_required_response(declaration, context)
    message = PaymentRequired(
        x402_version=2, resource=RESOURCE, accepts=[REQUIREMENTS], extensions={"offer-receipt": block}
    )
    (offer,) = load_artifacts(message.model_dump(by_alias=True, exclude_none=True))
    result = verify_artifact(offer, VerifyOptions(authorize=False))
    assert result.valid and result.payload is not None
    assert result.payload["payTo"] == REQUIREMENTS.pay_to and result.payload["amount"] == "10000"
    assert 0 <= result.payload["validUntil"] - int(time.time()) <= 60, "validity follows maxTimeoutSeconds"
    assert offer.envelope["acceptIndex"] == 0
    assert extension.dynamic_info_fields == ["offers"]


def test_receipt_is_signed_on_success_only_and_transaction_is_opt_in() -> None:
    extension = OfferReceiptExtension(Eip712Issuer(KEY))
    payload = PaymentPayload(x402_version=2, payload={}, accepted=REQUIREMENTS, resource=RESOURCE)
    settled = SettleResponse(success=True, payer=PAYER, transaction="0x" + "ab" * 32, network="eip155:31337")
    context = SettleResultContext(payment_payload=payload, requirements=REQUIREMENTS, result=settled)

    private = extension.enrich_settlement_response(declare_offer_receipt()["offer-receipt"], context)
    assert private is not None
    (receipt,) = load_artifacts({"success": True, "extensions": {"offer-receipt": private}})
    assert receipt.envelope["payload"]["transaction"] == ""
    assert receipt.envelope["payload"]["payer"] == PAYER
    assert verify_artifact(receipt, VerifyOptions(authorize=False)).valid

    with_tx = extension.enrich_settlement_response(
        declare_offer_receipt(include_transaction=True)["offer-receipt"], context
    )
    assert with_tx is not None and with_tx["info"]["receipt"]["payload"]["transaction"] == settled.transaction

    failed = SettleResultContext(
        payment_payload=payload,
        requirements=REQUIREMENTS,
        result=SettleResponse(success=False, error_reason="x", transaction="", network="eip155:31337"),
    )
    assert extension.enrich_settlement_response({}, failed) is None
