from .build import (
    check_payer_is_attester as check_payer_is_attester,
)
from .build import (
    review_from_receipt as review_from_receipt,
)
from .build import (
    review_of_subject as review_of_subject,
)
from .duplicates import (
    DuplicateReviewError as DuplicateReviewError,
)
from .model import (
    UserReview as UserReview,
)
from .model import (
    decode_user_review as decode_user_review,
)
from .model import (
    new_review as new_review,
)
from .outbox import (
    Outbox as Outbox,
)
from .outbox import (
    OutboxEntry as OutboxEntry,
)
from .proofs import (
    Proof as Proof,
)
from .proofs import (
    parse_proof as parse_proof,
)
from .submit import (
    JobOutcome as JobOutcome,
)
from .submit import (
    ReviewJob as ReviewJob,
)
from .submit import (
    submit_reviews as submit_reviews,
)
