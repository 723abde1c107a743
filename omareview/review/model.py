"""The OMATrust User Review, with the schema's limits enforced where a review is written.

Reviews read back from chain are not held to these limits (others may have written anything); see
`decode_user_review`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypedDict, cast
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, ValidationError, field_validator

from omareview._wire import WireModel
from omareview.eas._fixed_layout import decode_user_review_fields
from omareview.eas.schema_codec import decode_data, encode_data, parse_schema
from omareview.errors import InputError
from omareview.identity.dids import did_address, subject_did
from omareview.schemas import USER_REVIEW, get_schema

__all__ = [
    "MAX_BODY",
    "MAX_SCREENSHOTS",
    "MAX_SUBJECT",
    "MAX_URL",
    "MAX_VERSION",
    "UserReview",
    "UserReviewFields",
    "decode_user_review",
    "new_review",
]

MAX_BODY = 500
MAX_SCREENSHOTS = 10
MAX_URL = 256
MAX_SUBJECT = 256
MAX_VERSION = 50
_VERSION = re.compile(r"^(\d+(\.\d+){0,2})?$")
_SUBJECT_METHODS = ("web", "pkh", "jwk")


class UserReview(WireModel):
    """One review, as its on-chain fields (each proof the JSON text of a wrapper).

    Attributes:
        subject: the subject DID.
        version: the reviewed service version (`1`, `1.2` or `1.2.3`, or empty).
        rating_value: 1 to 5.
        review_body: at most 500 characters.
        screenshot_urls: at most 10 URLs, each at most 256 characters.
        proofs: proof wrappers as compact JSON text.
    """

    model_config = ConfigDict(extra="forbid")

    subject: str
    version: str = ""
    rating_value: int = Field(alias="ratingValue")
    review_body: str = Field(default="", alias="reviewBody")
    screenshot_urls: tuple[str, ...] = Field(default=(), alias="screenshotUrls")
    proofs: tuple[str, ...] = ()

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        did = subject_did(value)
        method = did.split(":", 2)[1]
        if method not in _SUBJECT_METHODS:
            raise ValueError(f"a review's subject must be a did:web, did:pkh or did:jwk, not did:{method}")
        if len(did) > MAX_SUBJECT:
            raise ValueError(f"the subject is longer than {MAX_SUBJECT} characters")
        return did

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if len(value) > MAX_VERSION or not _VERSION.match(value):
            raise ValueError(f"version {value!r} must look like 1, 1.2 or 1.2.3 (or be empty)")
        return value

    @field_validator("rating_value", mode="before")
    @classmethod
    def _rating(cls, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise ValueError(f"the rating must be a whole number from 1 to 5, not {value!r}")
        return value

    @field_validator("review_body")
    @classmethod
    def _body(cls, value: str) -> str:
        if len(value) > MAX_BODY:
            raise ValueError(f"the review body is {len(value)} characters; at most {MAX_BODY} are allowed")
        return value

    @field_validator("screenshot_urls")
    @classmethod
    def _screenshots(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > MAX_SCREENSHOTS:
            raise ValueError(f"{len(value)} screenshot URLs given; at most {MAX_SCREENSHOTS} are allowed")
        for url in value:
            parts = urlsplit(url)
            if len(url) > MAX_URL:
                raise ValueError(f"screenshot URL {url[:40]}… is longer than {MAX_URL} characters")
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"screenshot URL {url!r} is not an http(s) URL")
        return value

    @property
    def recipient(self) -> str:
        """The EAS recipient: the subject's DID address."""
        return did_address(self.subject)

    def encode(self) -> bytes:
        """The attestation data, `abi.encode` in the User Review schema's field order."""
        return encode_data(get_schema(USER_REVIEW).schema_string, self.field_values())

    def field_values(self) -> list[Any]:
        return [
            self.subject,
            self.version,
            self.rating_value,
            self.review_body,
            list(self.screenshot_urls),
            list(self.proofs),
        ]


def new_review(**fields: Any) -> UserReview:
    """Build a UserReview, turning pydantic's report into one clear InputError."""
    try:
        return UserReview(**fields)
    except ValidationError as exc:
        problem = exc.errors()[0]
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["type"] in ("missing", "extra_forbidden"):
            message = f"{'.'.join(str(p) for p in problem['loc'])}: {message.lower()}"
        raise InputError(message, reason="bad-review") from exc


class UserReviewFields(TypedDict, total=False):
    """The decoded fields of User Review attestation data, by their schema names (an older schema may lack
    some); the values are what was written, unchecked."""

    subject: str
    version: str
    ratingValue: int
    reviewBody: str
    screenshotUrls: Sequence[str]
    proofs: Sequence[str]


def decode_user_review(data: bytes, schema: str | None = None) -> UserReviewFields:
    """The fields of User Review attestation data, without limits (on-chain data is whatever was written).
    `schema` reads a legacy User Review schema instead of the current one."""
    current = get_schema(USER_REVIEW).schema_string
    text = schema or current
    names = [field.name for field in parse_schema(text)]
    fast = decode_user_review_fields(data) if text == current else None
    values: Sequence[Any] = fast if fast is not None else decode_data(text, data)
    return cast("UserReviewFields", dict(zip(names, values, strict=True)))
