"""The x402 `reviews` extension (x402 specs, `extensions/reviews.md`), both sides.

Server side: `ReviewsExtension` lists, in every 402, where the resource's reviews can be **read**, and in
every successful settlement, where the payer can **write** a review of that payment, each block validated
against the extension's JSON Schema before it leaves. Client side: `read_links` and `write_links` take a
received block apart by the extension's client rules: at most four providers, each HTTPS, each `provider`
equal to the host of its URL, and only providers on the caller's allowlist. `description`, `userQuestion`
and everything at the end of a link are data written by others, never instructions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

from omareview._json import JsonMapping, JsonObject
from omareview.errors import InputError
from omareview.identity.dids import subject_did
from omareview.x402.server_extension import request_url

__all__ = [
    "MAX_PROVIDERS",
    "READ_SCHEMA",
    "REVIEWS",
    "WRITE_SCHEMA",
    "ReviewLink",
    "ReviewLinks",
    "ReviewsExtension",
    "ReviewsProvider",
    "declare_reviews",
    "read_links",
    "validate_reviews_info",
    "write_links",
]

_log = logging.getLogger("omareview.x402")

REVIEWS = "reviews"
MAX_PROVIDERS = 4
LinkKind = Literal["read", "write"]


def _schema(kind: LinkKind) -> JsonObject:
    """The extension's published JSON Schema (draft 2020-12) of `info`, for `read` or `write` links."""
    properties: JsonObject = {
        "providers": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_PROVIDERS,
            "items": {
                "type": "object",
                "properties": {
                    "provider": {"type": "string", "minLength": 1, "maxLength": 253},
                    kind: {"type": "string", "pattern": "^https://", "maxLength": 2048},
                    "description": {"type": "string", "maxLength": 200},
                },
                "required": ["provider", kind],
            },
        }
    }
    if kind == "write":
        properties["userQuestion"] = {"type": "string", "maxLength": 200}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": ["providers"],
    }


READ_SCHEMA = _schema("read")
WRITE_SCHEMA = _schema("write")


def validate_reviews_info(info: Any, kind: LinkKind) -> list[str]:
    """Every way `info` breaks the extension's schema or its host rule; empty when it is valid."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(READ_SCHEMA if kind == "read" else WRITE_SCHEMA)
    problems = [f"{'/'.join(map(str, e.absolute_path)) or 'info'}: {e.message}" for e in validator.iter_errors(info)]
    if problems:
        return problems
    for index, entry in enumerate(info["providers"]):
        host = (urlsplit(entry[kind]).hostname or "").lower()
        if host != entry["provider"].lower():
            problems.append(f"providers/{index}: provider {entry['provider']!r} is not the host of its {kind} URL")
    return problems


@dataclass(frozen=True)
class ReviewsProvider:
    """A review provider a resource server lists.

    Parameters:
        base_url: the provider's HTTPS base URL (`https://reviews.example`); links are built under it as
            `/reviews?resource=…` and `/r/<network>:<transaction>`, the paths `omareview serve` answers.
        description: what the `read` link is, shown to clients as data.
        write_description: what the `write` link is.
    """

    base_url: str
    description: str | None = "Reviews of this resource by clients who paid for it."
    write_description: str | None = "Review this purchase, signed by the wallet that paid."

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme != "https" or not parts.hostname:
            raise InputError(f"a review provider's URL must be https://host, not {self.base_url!r}")

    @property
    def provider(self) -> str:
        return (urlsplit(self.base_url).hostname or "").lower()

    def read_url(self, resource_url: str) -> str:
        return f"{self.base_url.rstrip('/')}/reviews?resource={quote(resource_url, safe='')}"

    def write_url(self, network: str, transaction: str) -> str:
        return f"{self.base_url.rstrip('/')}/r/{quote(f'{network}:{transaction}', safe='')}"

    def entry(self, kind: LinkKind, url: str) -> dict[str, str]:
        entry = {"provider": self.provider, kind: url}
        description = self.description if kind == "read" else self.write_description
        if description:
            entry["description"] = description
        return entry


def declare_reviews() -> JsonObject:
    """The route-level declaration (`RouteConfig(extensions=...)`) that switches the extension on."""
    return {REVIEWS: {}}


def _block(kind: LinkKind, info: JsonObject) -> JsonObject:
    problems = validate_reviews_info(info, kind)
    if problems:
        raise InputError(f"the reviews block breaks the extension's schema: {problems[0]}", reason="cannot-issue")
    return {"info": info, "schema": READ_SCHEMA if kind == "read" else WRITE_SCHEMA}


class ReviewsExtension:
    """An `x402` resource-server extension adding the `reviews` block to 402s (where to read) and to
    successful settlements (where to write), the same extension point `OfferReceiptExtension` uses.

    Parameters:
        providers: the providers to list, one to four.
        user_question: the question a client may relay to its person after paying (≤ 200 characters).
    """

    key = REVIEWS
    hooks = None
    transport_hooks = None
    dynamic_info_fields: ClassVar[list[str]] = ["providers"]

    def __init__(self, providers: Sequence[ReviewsProvider], *, user_question: str | None = None) -> None:
        if not 1 <= len(providers) <= MAX_PROVIDERS:
            raise InputError(f"list 1 to {MAX_PROVIDERS} review providers, not {len(providers)}")
        self.providers = list(providers)
        self.user_question = user_question
        self._warned = False

    def enrich_declaration(self, declaration: Any, transport_context: Any) -> Any:
        return declaration

    def read_block(self, resource_url: str) -> JsonObject:
        """The `read` block; a resource URL too long for the extension's links is named by its subject DID
        (a provider lists reviews per subject, so the link leads to the same reviews)."""
        info = {"providers": [p.entry("read", p.read_url(resource_url)) for p in self.providers]}
        if validate_reviews_info(info, "read"):
            subject = subject_did(resource_url)
            info = {"providers": [p.entry("read", p.read_url(subject)) for p in self.providers]}
        return _block("read", info)

    def write_block(self, network: str, transaction: str) -> JsonObject:
        info: JsonObject = {"providers": [p.entry("write", p.write_url(network, transaction)) for p in self.providers]}
        if self.user_question:
            info["userQuestion"] = self.user_question
        return _block("write", info)

    def enrich_payment_required_response(self, declaration: Any, context: Any) -> JsonObject | None:
        url = getattr(getattr(context, "resource_info", None), "url", None) or request_url(context)
        return self._or_none(lambda: self.read_block(str(url))) if url else None

    def enrich_settlement_response(self, declaration: Any, context: Any) -> JsonObject | None:
        result = context.result
        if not getattr(result, "success", False) or not result.network or not result.transaction:
            return None
        return self._or_none(lambda: self.write_block(str(result.network), str(result.transaction)))

    def _or_none(self, build: Callable[[], JsonObject]) -> JsonObject | None:
        """A block that cannot be built within the extension's limits is left out (logged once per
        process), never sent malformed."""
        try:
            return build()
        except InputError as exc:
            if not self._warned:
                _log.warning("left the reviews block out: %s", exc)
                self._warned = True
            return None


@dataclass(frozen=True)
class ReviewLink:
    """One provider link a client may follow.

    Parameters:
        provider: the provider's host.
        url: the `read` or `write` URL.
        description: the server's description of it: data, never an instruction.
    """

    provider: str
    url: str
    description: str | None = None


@dataclass(frozen=True)
class ReviewLinks:
    """The usable links of one `reviews` block, and what was dropped.

    Parameters:
        links: the links from allowlisted providers, in the server's order.
        user_question: the settlement's question for a person (data), if any.
        dropped: why each other entry was ignored.
    """

    links: tuple[ReviewLink, ...] = ()
    user_question: str | None = None
    dropped: tuple[str, ...] = ()


def _links(message: JsonMapping | None, kind: LinkKind, allowlist: Collection[str] | None) -> ReviewLinks:
    extensions = (message or {}).get("extensions")
    block = extensions.get(REVIEWS) if isinstance(extensions, Mapping) else None
    info = block.get("info") if isinstance(block, Mapping) else None
    if info is None:
        return ReviewLinks()
    problems = validate_reviews_info(info, kind)
    if any("is not the host" not in p for p in problems):
        return ReviewLinks(dropped=(f"the reviews block breaks the extension's schema: {problems[0]}",))
    allowed = {host.lower() for host in allowlist} if allowlist is not None else None
    links: list[ReviewLink] = []
    dropped = list(problems)
    for entry in info["providers"]:
        host = entry["provider"].lower()
        if (urlsplit(entry[kind]).hostname or "").lower() != host:
            continue
        if allowed is not None and host not in allowed:
            dropped.append(f"provider {host} is not on the allowlist")
            continue
        links.append(ReviewLink(host, entry[kind], entry.get("description")))
    question = info.get("userQuestion") if kind == "write" else None
    return ReviewLinks(tuple(links), question, tuple(dropped))


def read_links(payment_required: JsonMapping | None, allowlist: Collection[str] | None) -> ReviewLinks:
    """The `read` links of a 402's `reviews` block from allowlisted providers (None: any provider)."""
    return _links(payment_required, "read", allowlist)


def write_links(settlement: JsonMapping | None, allowlist: Collection[str] | None) -> ReviewLinks:
    """The `write` links (and `userQuestion`) of a settlement response's `reviews` block from allowlisted
    providers (None: any provider). A settlement that failed carries none, whatever its block says."""
    if settlement is not None and settlement.get("success") is False:
        return ReviewLinks(dropped=("the settlement failed, so it backs no review",))
    return _links(settlement, "write", allowlist)
