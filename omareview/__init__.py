"""omareview: verified-purchase reviews for x402 services, as OMATrust User Review attestations on EAS.

The public surface is re-exported here (imported on first use, so `import omareview` stays cheap);
submodules not named below are private.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ChainError": "omareview.errors",
    "ConfigError": "omareview.errors",
    "DevnetError": "omareview.errors",
    "InputError": "omareview.errors",
    "OmaReviewError": "omareview.errors",
    "ToolchainError": "omareview.errors",
    "DevAccount": "omareview.devnet",
    "Devnet": "omareview.devnet",
    "DevnetState": "omareview.devnet",
    "read_state": "omareview.devnet",
    "start_devnet": "omareview.devnet",
    "stop_devnet": "omareview.devnet",
    "schema_uid": "omareview.eas.uids",
    "Network": "omareview.networks",
    "resolve_network": "omareview.networks",
    "EasSchema": "omareview.schemas",
    "all_schemas": "omareview.schemas",
    "get_schema": "omareview.schemas",
    "Authorization": "omareview.identity",
    "authorize_signer": "omareview.identity",
    "did_address": "omareview.identity",
    "did_hash": "omareview.identity",
    "normalize_did": "omareview.identity",
    "subject_did": "omareview.identity",
    "DidKey": "omareview.x402",
    "Eip712Issuer": "omareview.x402",
    "JwsIssuer": "omareview.x402",
    "LoadedArtifact": "omareview.x402",
    "VerificationResult": "omareview.x402",
    "VerifyOptions": "omareview.x402",
    "artifact_digest": "omareview.x402",
    "did_document": "omareview.x402",
    "load_artifacts": "omareview.x402",
    "sign_payment_required": "omareview.x402",
    "sign_settle_response": "omareview.x402",
    "verify_artifact": "omareview.x402",
    "EasClient": "omareview.eas.client",
    "Submitted": "omareview.eas.client",
    "DelegatedAttestation": "omareview.eas.client",
    "review_request": "omareview.eas.client",
    "UserReview": "omareview.review",
    "new_review": "omareview.review",
    "review_from_receipt": "omareview.review",
    "review_of_subject": "omareview.review",
    "decode_user_review": "omareview.review",
    "Proof": "omareview.review",
    "ReviewJob": "omareview.review.submit",
    "submit_reviews": "omareview.review.submit",
    "Outbox": "omareview.hooks.outbox",
    "Signer": "omareview.keys",
    "signer_from_key": "omareview.keys",
    "signer_from_environment": "omareview.keys",
    "ReviewIndex": "omareview.index",
    "SubjectReviews": "omareview.index",
    "IndexedReview": "omareview.index",
    "JudgeContext": "omareview.index",
    "ReceiptCapture": "omareview.hooks",
    "ReviewDraft": "omareview.hooks",
    "Submitter": "omareview.hooks",
    "AsyncSubmitter": "omareview.hooks",
    "paying_client": "omareview.hooks",
    "install_hook": "omareview.hooks",
    "Gate": "omareview.gate",
    "Decision": "omareview.gate",
    "Policy": "omareview.gate",
    "PaymentNotApprovedError": "omareview.gate",
    "load_policy": "omareview.gate",
}

__all__ = [
    "AsyncSubmitter",
    "Authorization",
    "ChainError",
    "ConfigError",
    "Decision",
    "DelegatedAttestation",
    "DevAccount",
    "Devnet",
    "DevnetError",
    "DevnetState",
    "DidKey",
    "EasClient",
    "EasSchema",
    "Eip712Issuer",
    "Gate",
    "IndexedReview",
    "InputError",
    "JudgeContext",
    "JwsIssuer",
    "LoadedArtifact",
    "Network",
    "OmaReviewError",
    "Outbox",
    "PaymentNotApprovedError",
    "Policy",
    "Proof",
    "ReceiptCapture",
    "ReviewDraft",
    "ReviewIndex",
    "ReviewJob",
    "Signer",
    "SubjectReviews",
    "Submitted",
    "Submitter",
    "ToolchainError",
    "UserReview",
    "VerificationResult",
    "VerifyOptions",
    "all_schemas",
    "artifact_digest",
    "authorize_signer",
    "decode_user_review",
    "did_address",
    "did_document",
    "did_hash",
    "get_schema",
    "install_hook",
    "load_artifacts",
    "load_policy",
    "new_review",
    "normalize_did",
    "paying_client",
    "read_state",
    "resolve_network",
    "review_from_receipt",
    "review_of_subject",
    "review_request",
    "schema_uid",
    "sign_payment_required",
    "sign_settle_response",
    "signer_from_environment",
    "signer_from_key",
    "start_devnet",
    "stop_devnet",
    "subject_did",
    "submit_reviews",
    "verify_artifact",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'omareview' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:
    from omareview.devnet import DevAccount, Devnet, DevnetState, read_state, start_devnet, stop_devnet
    from omareview.eas.client import DelegatedAttestation, EasClient, Submitted, review_request
    from omareview.eas.uids import schema_uid
    from omareview.errors import ChainError, ConfigError, DevnetError, InputError, OmaReviewError, ToolchainError
    from omareview.gate import Decision, Gate, PaymentNotApprovedError, Policy, load_policy
    from omareview.hooks import AsyncSubmitter, ReceiptCapture, ReviewDraft, Submitter, install_hook, paying_client
    from omareview.hooks.outbox import Outbox
    from omareview.identity import Authorization, authorize_signer, did_address, did_hash, normalize_did, subject_did
    from omareview.index import IndexedReview, JudgeContext, ReviewIndex, SubjectReviews
    from omareview.keys import Signer, signer_from_environment, signer_from_key
    from omareview.networks import Network, resolve_network
    from omareview.review import (
        Proof,
        UserReview,
        decode_user_review,
        new_review,
        review_from_receipt,
        review_of_subject,
    )
    from omareview.review.submit import ReviewJob, submit_reviews
    from omareview.schemas import EasSchema, all_schemas, get_schema
    from omareview.x402 import (
        DidKey,
        Eip712Issuer,
        JwsIssuer,
        LoadedArtifact,
        VerificationResult,
        VerifyOptions,
        artifact_digest,
        did_document,
        load_artifacts,
        sign_payment_required,
        sign_settle_response,
        verify_artifact,
    )
