from ._version import __version__ as __version__
from .eas.client import AsyncEasClient as AsyncEasClient
from .eas.client import (
    EasClient as EasClient,
)
from .eas.client import (
    Submitted as Submitted,
)
from .eas.client import (
    review_request as review_request,
)
from .eas.delegation import (
    DelegatedAttestation as DelegatedAttestation,
)
from .errors import (
    ChainError as ChainError,
)
from .errors import (
    ConfigError as ConfigError,
)
from .errors import (
    DevnetError as DevnetError,
)
from .errors import (
    InputError as InputError,
)
from .errors import (
    OmaReviewError as OmaReviewError,
)
from .errors import (
    ServiceError as ServiceError,
)
from .errors import (
    ToolchainError as ToolchainError,
)
from .gate.decide import AsyncGate as AsyncGate
from .gate.decide import Decision as Decision
from .gate.decide import Gate as Gate
from .gate.decide import PaymentNotApprovedError as PaymentNotApprovedError
from .gate.policy import Policy as Policy
from .gate.policy import load_policy as load_policy
from .hooks.attach import attach as attach
from .hooks.attach import paying_session as paying_session
from .hooks.capture import ReceiptCapture as ReceiptCapture
from .hooks.capture import ReviewDraft as ReviewDraft
from .hooks.httpx_hook import install_hook as install_hook
from .hooks.httpx_hook import paying_client as paying_client
from .hooks.submitter import AsyncSubmitter as AsyncSubmitter
from .hooks.submitter import Submitter as Submitter
from .identity.authorization import authorize_signer as authorize_signer
from .identity.dids import (
    did_address as did_address,
)
from .identity.dids import (
    did_hash as did_hash,
)
from .identity.dids import (
    normalize_did as normalize_did,
)
from .identity.dids import (
    subject_did as subject_did,
)
from .identity.verdict import Authorization as Authorization
from .index.context import JudgeContext as JudgeContext
from .index.query import AsyncReviewIndex as AsyncReviewIndex
from .index.query import ReviewIndex as ReviewIndex
from .index.summary import IndexedReview as IndexedReview
from .index.summary import SubjectReviews as SubjectReviews
from .networks import Network as Network
from .networks import resolve_network as resolve_network
from .review.build import review_from_receipt as review_from_receipt
from .review.build import review_of_subject as review_of_subject
from .review.model import UserReview as UserReview
from .review.model import decode_user_review as decode_user_review
from .review.model import new_review as new_review
from .review.outbox import Outbox as Outbox
from .review.proofs import Proof as Proof
from .review.submit import ReviewJob as ReviewJob
from .review.submit import submit_reviews as submit_reviews
from .schemas import EasSchema as EasSchema
from .schemas import all_schemas as all_schemas
from .schemas import get_schema as get_schema
from .schemas import schema_uid as schema_uid
from .signers import Signer as Signer
from .signers import signer_from_environment as signer_from_environment
from .signers import signer_from_key as signer_from_key
from .x402.issue import (
    DidKey as DidKey,
)
from .x402.issue import (
    Eip712Issuer as Eip712Issuer,
)
from .x402.issue import (
    JwsIssuer as JwsIssuer,
)
from .x402.issue import (
    did_document as did_document,
)
from .x402.issue import (
    sign_payment_required as sign_payment_required,
)
from .x402.issue import (
    sign_settle_response as sign_settle_response,
)
from .x402.load import LoadedArtifact as LoadedArtifact
from .x402.load import load_artifacts as load_artifacts
from .x402.verify import (
    VerificationResult as VerificationResult,
)
from .x402.verify import (
    VerifyOptions as VerifyOptions,
)
from .x402.verify import (
    artifact_digest as artifact_digest,
)
from .x402.verify import (
    verify_artifact as verify_artifact,
)
