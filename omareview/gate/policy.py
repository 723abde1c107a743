"""The local, auditable payment policy: when to pay (and up to how much), when to ask, when to refuse.

Read from `$OMAREVIEW_HOME/policy.toml` (or passed in code) and validated; `DEFAULT_POLICY` ships.
Limits are in the asset's atomic units, keyed by `"<network>/<asset>"` (CAIP-2 network, asset address as
written in the offer, case-insensitive) or `"*"` for any asset.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from omareview._home import home_dir
from omareview.errors import ConfigError, validation_problem
from omareview.identity.verdict import AuthorizationMethod

__all__ = [
    "DEFAULT_POLICY",
    "POLICY_FILE",
    "Action",
    "AttestSealPolicy",
    "Policy",
    "Tier",
    "load_policy",
]

Action = Literal["pay", "ask", "refuse"]


def _trusted_methods() -> list[AuthorizationMethod]:
    """`payTo` signing is left out: anyone can sign an offer that pays themselves."""
    return ["key-binding", "witness", "did-json", "dns-txt"]


POLICY_FILE = "policy.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Tier(_Strict):
    """Pay up to `limits` when every condition holds."""

    name: str
    min_verified_reviews: int = Field(default=0, ge=0)
    min_average: float | None = Field(default=None, ge=1, le=5)
    require_authorized_offer: bool = True
    limits: dict[str, str]

    @field_validator("limits")
    @classmethod
    def _atomic(cls, limits: dict[str, str]) -> dict[str, str]:
        for key, value in limits.items():
            if not value.isdigit():
                raise ValueError(f"limit {key!r} = {value!r} must be a whole number of atomic units")
        return {key.lower(): value for key, value in limits.items()}

    def limit_for(self, network: str, asset: str) -> int | None:
        value = self.limits.get(f"{network}/{asset}".lower(), self.limits.get("*"))
        return int(value) if value is not None else None


class AttestSealPolicy(_Strict):
    """What verified AttestSeal evidence may do; by default nothing (it is advisory)."""

    trusted_issuers: list[str] = Field(default_factory=lambda: ["did:web:attestseal.com"])
    deny: Literal["ignore", "ask", "refuse"] = "ignore"
    caution: Literal["ignore", "ask"] = "ignore"


class Policy(_Strict):
    """The local payment policy: when to pay (and up to how much), when to ask, when to refuse.

    Attributes:
        authorized_methods: the authorization sources that make an offer's signer count.
        refuse_below_average: refuse when proven reviews average below this.
        refuse_min_reviews: ...but only once there are at least this many.
        min_cost_to_move: refuse when moving the counted average by half a star would cost less than this,
            in the payment asset's atomic units (None: no minimum); a service without counted reviews has
            no average to move.
        tiers: the tiers of approval, first match wins, each with its limits.
        otherwise: the action when no tier matches (`ask` or `refuse`).
        max_index_age_seconds: how stale the index may be before the gate syncs it.
        sync_timeout_seconds: how long a sync before a decision may take.
        attestseal: how advisory AttestSeal headers are consulted.
        review_providers: the hosts of review providers whose `read` links in a 402 are followed (the
            x402 `reviews` extension); any other listed provider is ignored.
        own_providers: base URLs of providers asked about every service, listed or not (a cheating server
            will not list the provider holding its bad reviews).
    """

    authorized_methods: list[AuthorizationMethod] = Field(default_factory=_trusted_methods)
    refuse_below_average: float | None = Field(default=2.0, ge=1, le=5)
    refuse_min_reviews: int = Field(default=3, ge=1)
    min_cost_to_move: int | None = Field(default=None, ge=0)
    tiers: list[Tier]
    otherwise: Literal["ask", "refuse"] = "ask"
    max_index_age_seconds: int = Field(default=60, ge=0)
    sync_timeout_seconds: float = Field(default=3.0, gt=0)
    attestseal: AttestSealPolicy = Field(default_factory=AttestSealPolicy)
    review_providers: list[str] = Field(default_factory=list)
    own_providers: list[str] = Field(default_factory=list)

    @field_validator("own_providers")
    @classmethod
    def _https(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith("https://"):
                raise ValueError(f"a review provider is an https:// URL, not {url!r}")
        return [url.rstrip("/") for url in urls]

    def provider_hosts(self) -> set[str]:
        """The providers this policy trusts: the allowlist and the hosts of its own providers."""
        return {h.lower() for h in self.review_providers} | {
            (urlsplit(u).hostname or "").lower() for u in self.own_providers
        }


DEFAULT_POLICY = Policy(
    tiers=[
        Tier(
            name="proven",
            min_verified_reviews=3,
            min_average=4.0,
            require_authorized_offer=True,
            limits={"*": "1000000"},
        ),
        Tier(name="authorized-offer", require_authorized_offer=True, limits={"*": "100000"}),
    ]
)


def load_policy(path: Path | None = None) -> Policy:
    """The policy file (default `$OMAREVIEW_HOME/policy.toml`), or DEFAULT_POLICY when there is none."""
    file = path or home_dir() / POLICY_FILE
    if not file.exists():
        if path is not None:
            raise ConfigError(f"policy file {path} does not exist", reason="bad-policy")
        return DEFAULT_POLICY
    try:
        with file.open("rb") as handle:
            written = tomllib.load(handle)
        # A partial policy overrides the default key by key; a key the policy does not know is named.
        return Policy.model_validate({**DEFAULT_POLICY.model_dump(), **written})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file} is not valid TOML ({exc})", reason="bad-policy") from exc
    except ValidationError as exc:
        raise ConfigError(f"{file}: {validation_problem(exc)}", reason="bad-policy") from exc
