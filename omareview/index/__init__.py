"""The index: every review of a subject DID, with its proof judged — complete, incremental, reorg-safe."""

from omareview.index.judge import JudgeContext, ReviewLevel
from omareview.index.query import IndexedReview, ReviewIndex, SubjectReviews
from omareview.index.scanner import AttestedLog, LogScanner, fetch_attestations
from omareview.index.sync import SyncResult

__all__ = [
    "AttestedLog",
    "IndexedReview",
    "JudgeContext",
    "LogScanner",
    "ReviewIndex",
    "ReviewLevel",
    "SubjectReviews",
    "SyncResult",
    "fetch_attestations",
]
