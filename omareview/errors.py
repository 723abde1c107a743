"""One exception tree for the library. Each error carries a stable machine `reason` code.

Callers branch on the class or on `reason` (the codes are listed in the docs' error page), never on the
message. Messages say what is wrong for a person to read; they never carry key material and never name a
command-line flag: the library does not know the command line exists (it maps these classes to exit codes
and adds its own hints by reason).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "ChainError",
    "ConfigError",
    "DevnetError",
    "InputError",
    "OmaReviewError",
    "ServiceError",
    "ToolchainError",
    "validation_problem",
]


class OmaReviewError(Exception):
    """Root of every error omareview raises on purpose.

    Parameters:
        message: what is wrong, for a person.
        reason: the stable machine code of the failure; each class has a default.
    """

    default_reason: ClassVar[str] = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason: str = reason or self.default_reason


class InputError(OmaReviewError):
    """The caller handed over something omareview refuses (bad file, bad value, failed check)."""

    default_reason = "invalid-input"


class ConfigError(OmaReviewError):
    """Options, environment or config file do not fit together."""

    default_reason = "bad-config"


class ChainError(OmaReviewError):
    """The chain or its node could not be reached, or answered something unusable."""

    default_reason = "chain-unavailable"


class ServiceError(OmaReviewError):
    """A web service (an x402 server, a relay, a review provider) could not be reached or answered unusably."""

    default_reason = "service-unavailable"


class ToolchainError(OmaReviewError):
    """A program omareview runs (Anvil, npm) or data it reads (EAS artifacts) is missing."""

    default_reason = "toolchain-missing"


class DevnetError(OmaReviewError):
    """The embedded devnet could not be started, deployed, or reached."""

    default_reason = "devnet-failed"


def validation_problem(exc: ValidationError, whole: str = "value") -> str:
    """pydantic's first complaint as `where: what` (`whole` names the input when it is not one field)."""
    problem = exc.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or whole
    return f"{where}: {problem['msg']}"
