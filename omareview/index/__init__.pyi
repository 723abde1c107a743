from .judge import (
    JudgeContext as JudgeContext,
)
from .judge import (
    ReviewLevel as ReviewLevel,
)
from .query import (
    AsyncReviewIndex as AsyncReviewIndex,
    IndexedReview as IndexedReview,
)
from .query import (
    AsyncReviewIndex as AsyncReviewIndex,
    ReviewIndex as ReviewIndex,
)
from .query import (
    AsyncReviewIndex as AsyncReviewIndex,
    SubjectReviews as SubjectReviews,
)
from .sync import (
    SyncResult as SyncResult,
)
