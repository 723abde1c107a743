from .context import (
    JudgeContext as JudgeContext,
)
from .context import (
    ReviewLevel as ReviewLevel,
)
from .follow import (
    Follower as Follower,
)
from .follow import (
    FollowRound as FollowRound,
)
from .query import (
    AsyncReviewIndex as AsyncReviewIndex,
)
from .query import (
    ReviewIndex as ReviewIndex,
)
from .summary import IndexedReview as IndexedReview
from .summary import ReviewResponse as ReviewResponse
from .summary import SubjectReviews as SubjectReviews
from .sync import (
    SyncResult as SyncResult,
)
