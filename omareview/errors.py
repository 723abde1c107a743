"""One exception tree for the library. Each error carries a stable machine `reason` code.

Callers branch on the class or on `reason` (the codes are listed in the docs' error page), never on the
message. Messages say what is wrong for a person to read; they never carry key material and never name a
command-line flag: the library does not know the command line exists (it maps these classes to exit codes
and adds its own hints by reason).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "REASONS",
    "ChainError",
    "ConfigError",
    "DevnetError",
    "FetchError",
    "FetchFailedError",
    "FetchRefusedError",
    "InputError",
    "OmaReviewError",
    "Reason",
    "ServiceError",
    "ToolchainError",
    "validation_problem",
]


#: Every machine code an error may carry, as the errors page lists them: a typo in a `reason=` is a type error,
#: and every table keyed by reasons (the CLI's hints, the provider's HTTP statuses) is checked against it.
Reason = Literal[
    "error",
    "invalid-input",
    "bad-config",
    "chain-unavailable",
    "sync-timeout",
    "service-unavailable",
    "already-reviewed",
    "bad-review",
    "attestation-failed",
    "wrong-chain",
    "no-eas-here",
    "claimed-elsewhere",
    "eas-reverted",
    "bad-attestation-data",
    "bad-eas-domain",
    "rpc-failed",
    "rpc-error",
    "scan-failed",
    "transaction-failed",
    "transaction-unsettled",
    "relay-failed",
    "unreadable-artifact",
    "bad-json",
    "too-deep",
    "too-large",
    "wrong-signer",
    "too-slow",
    "bad-eip712",
    "bad-jws",
    "not-found",
    "not-revocable",
    "bad-proof",
    "bad-artifact",
    "bad-network",
    "cannot-issue",
    "issued-in-future",
    "too-old",
    "wrong-subject",
    "payer-not-attester",
    "signer-unauthorized",
    "check-failed",
    "bad-did",
    "unreadable-file",
    "bad-did-document",
    "bad-key",
    "bad-dns-record",
    "bad-base64",
    "fetch-refused",
    "fetch-failed",
    "bad-payment-required",
    "bad-policy",
    "attester-mismatch",
    "bad-seal",
    "payment-not-approved",
    "unsupported-client",
    "submit-not-allowed",
    "mcp-missing",
    "serve-missing",
    "bad-store",
    "postgres-missing",
    "provider-not-allowed",
    "no-write-link",
    "not-own-payment",
    "signature-expired",
    "invalid-signature",
    "schema-not-subsidized",
    "duplicate",
    "payment-reviewed",
    "wrong-payment",
    "not-payment-backed",
    "payment-pending",
    "rate-limited",
    "gas-budget",
    "no-relayer",
    "bad-address",
    "bad-payment-tx",
    "bad-schema-uid",
    "no-schema-uid",
    "bad-trust-anchors",
    "unknown-network",
    "bad-network-config",
    "bad-config-file",
    "devnet-not-running",
    "no-signing-key",
    "outbox-entry",
    "bad-schema-data",
    "toolchain-missing",
    "npm-missing",
    "npm-failed",
    "devnet-extra-missing",
    "bad-anvil",
    "no-artifact",
    "devnet-failed",
    "devnet-running",
    "port-in-use",
    "deployment-failed",
]

#: The same codes, for code that checks a value at run time.
REASONS: frozenset[str] = frozenset(Reason.__args__)  # type: ignore[attr-defined]


class OmaReviewError(Exception):
    """Root of every error omareview raises on purpose.

    Parameters:
        message: what is wrong, for a person.
        reason: the stable machine code of the failure; each class has a default.
    """

    default_reason: ClassVar[Reason] = "error"

    def __init__(self, message: str, *, reason: Reason | None = None) -> None:
        super().__init__(message)
        self.reason: Reason = reason or self.default_reason


class InputError(OmaReviewError):
    """The caller handed over something omareview refuses (bad file, bad value, failed check)."""

    default_reason: ClassVar[Reason] = "invalid-input"


class ConfigError(OmaReviewError):
    """Options, environment or config file do not fit together."""

    default_reason: ClassVar[Reason] = "bad-config"


class ChainError(OmaReviewError):
    """The chain or its node could not be reached, or answered something unusable."""

    default_reason: ClassVar[Reason] = "chain-unavailable"


class ServiceError(OmaReviewError):
    """A web service (an x402 server, a relay, a review provider) could not be reached or answered unusably."""

    default_reason: ClassVar[Reason] = "service-unavailable"


class ToolchainError(OmaReviewError):
    """A program omareview runs (Anvil, npm) or data it reads (EAS artifacts) is missing."""

    default_reason: ClassVar[Reason] = "toolchain-missing"


class DevnetError(OmaReviewError):
    """The embedded devnet could not be started, deployed, or reached."""

    default_reason: ClassVar[Reason] = "devnet-failed"


class FetchError(OmaReviewError):
    """A document could not be fetched; the message says why. Callers that only need the document treat
    either kind as 'unknown'; the two kinds say whose fault it is."""

    default_reason: ClassVar[Reason] = "fetch-refused"


class FetchRefusedError(FetchError, InputError):
    """The fetch guard refused the target or its answer: not HTTPS, an address that is not public, a redirect
    to another origin, a body past its bound."""

    default_reason: ClassVar[Reason] = "fetch-refused"


class FetchFailedError(FetchError, ServiceError):
    """The target could not be reached or answered unusably: no such name, a timeout, a refused connection, an
    HTTP error status, a corrupt or non-JSON body. Trying later may work."""

    default_reason: ClassVar[Reason] = "fetch-failed"


def validation_problem(exc: ValidationError, whole: str = "value") -> str:
    """pydantic's first complaint as `where: what` (`whole` names the input when it is not one field)."""
    problem = exc.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or whole
    return f"{where}: {problem['msg']}"
