"""One exception hierarchy for the library; the CLI maps each class to an exit code.

Messages are written for the person at the terminal: what is wrong and what to do. They never
carry key material.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class OmaReviewError(Exception):
    """Root of every error omareview raises on purpose."""

    exit_code: int = 1


class InputError(OmaReviewError):
    """The caller handed over something omareview refuses (bad file, bad value, failed check)."""

    exit_code = 1


class ConfigError(OmaReviewError):
    """Options, environment or config file do not fit together."""

    exit_code = 2


class ChainError(OmaReviewError):
    """The chain or the node could not be reached, or answered something unusable."""

    exit_code = 3


class ToolchainError(ChainError):
    """A program omareview runs (Anvil) or data it reads (EAS artifacts) is missing."""


class DevnetError(ChainError):
    """The embedded devnet could not be started, deployed, or reached."""


def validation_problem(exc: ValidationError, whole: str = "value") -> str:
    """pydantic's first complaint as `where: what` (`whole` names the input when it is not one field)."""
    problem = exc.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or whole
    return f"{where}: {problem['msg']}"
