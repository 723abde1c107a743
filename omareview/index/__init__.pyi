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
    IndexedReview as IndexedReview,
)
from .query import (
    ReviewIndex as ReviewIndex,
)
from .query import (
    ReviewResponse as ReviewResponse,
)
from .query import (
    SubjectReviews as SubjectReviews,
)
from .sync import (
    SyncResult as SyncResult,
)
