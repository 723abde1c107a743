"""OMATrust User Reviews: the model and its limits, proof wrappers, building from a verified receipt."""

from omareview.review.build import check_payer_is_attester, review_from_receipt, review_of_subject
from omareview.review.model import UserReview, decode_user_review, new_review
from omareview.review.proofs import Proof, parse_proof

__all__ = [
    "Proof",
    "UserReview",
    "check_payer_is_attester",
    "decode_user_review",
    "new_review",
    "parse_proof",
    "review_from_receipt",
    "review_of_subject",
]
