from .caip2 import (
    to_caip2 as to_caip2,
)
from .issue import (
    DidKey as DidKey,
)
from .issue import (
    Eip712Issuer as Eip712Issuer,
)
from .issue import (
    Issuer as Issuer,
)
from .issue import (
    JwsIssuer as JwsIssuer,
)
from .issue import (
    did_document as did_document,
)
from .issue import (
    encode_header as encode_header,
)
from .issue import (
    offer_payload as offer_payload,
)
from .issue import (
    offer_receipt_extension as offer_receipt_extension,
)
from .issue import (
    receipt_payload as receipt_payload,
)
from .issue import (
    sign_payment_required as sign_payment_required,
)
from .issue import (
    sign_settle_response as sign_settle_response,
)
from .load import (
    LoadedArtifact as LoadedArtifact,
)
from .load import (
    load_artifacts as load_artifacts,
)
from .load import (
    load_artifacts_from_path as load_artifacts_from_path,
)
from .reviews import (
    ReviewLink as ReviewLink,
)
from .reviews import (
    ReviewLinks as ReviewLinks,
)
from .reviews import (
    ReviewsExtension as ReviewsExtension,
)
from .reviews import (
    ReviewsProvider as ReviewsProvider,
)
from .reviews import (
    declare_reviews as declare_reviews,
)
from .reviews import (
    read_links as read_links,
)
from .reviews import (
    write_links as write_links,
)
from .server_extension import (
    OfferReceiptExtension as OfferReceiptExtension,
)
from .server_extension import (
    declare_offer_receipt as declare_offer_receipt,
)
from .verify import (
    Check as Check,
)
from .verify import (
    SignerInfo as SignerInfo,
)
from .verify import (
    VerificationResult as VerificationResult,
)
from .verify import (
    VerifyOptions as VerifyOptions,
)
from .verify import (
    artifact_digest as artifact_digest,
)
from .verify import (
    verify_artifact as verify_artifact,
)
from .wire import (
    OfferPayload as OfferPayload,
)
from .wire import (
    ReceiptPayload as ReceiptPayload,
)
