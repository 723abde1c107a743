"""x402 signed offers and receipts: load them from any carrier, verify them, and issue them."""

from omareview.x402.caip2 import to_caip2
from omareview.x402.issue import (
    DidKey,
    Eip712Issuer,
    Issuer,
    JwsIssuer,
    did_document,
    encode_header,
    offer_payload,
    offer_receipt_extension,
    receipt_payload,
    sign_payment_required,
    sign_settle_response,
)
from omareview.x402.load import LoadedArtifact, load_artifacts, load_artifacts_from_path
from omareview.x402.server_extension import OfferReceiptExtension, declare_offer_receipt
from omareview.x402.verify import Check, SignerInfo, VerificationResult, VerifyOptions, artifact_digest, verify_artifact

__all__ = [
    "Check",
    "DidKey",
    "Eip712Issuer",
    "Issuer",
    "JwsIssuer",
    "LoadedArtifact",
    "OfferReceiptExtension",
    "SignerInfo",
    "VerificationResult",
    "VerifyOptions",
    "artifact_digest",
    "declare_offer_receipt",
    "did_document",
    "encode_header",
    "load_artifacts",
    "load_artifacts_from_path",
    "offer_payload",
    "offer_receipt_extension",
    "receipt_payload",
    "sign_payment_required",
    "sign_settle_response",
    "to_caip2",
    "verify_artifact",
]
