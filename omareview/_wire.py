"""The one base of every JSON document omareview hands out: camelCase keys, one configuration.

Byte-exact wire payloads (signed offers and receipts) are `TypedDict`s instead: a model would coerce them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = ["WireModel"]


class WireModel(BaseModel):
    """A frozen model whose JSON form has camelCase keys; fields accept their Python names too."""

    model_config = ConfigDict(defer_build=True, alias_generator=to_camel, populate_by_name=True, frozen=True)

    #: Leave `None` fields out of the JSON form (for documents whose optional parts are absent, not null).
    json_exclude_none: ClassVar[bool] = False

    def to_json(self) -> dict[str, Any]:
        """The JSON document: camelCase keys, JSON types only."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=self.json_exclude_none)

    def to_json_text(self) -> str:
        """The same document as compact JSON text, serialized by pydantic-core: several times faster than
        `json.dumps(self.to_json())`, which counts when results stream by the ten thousand."""
        return self.model_dump_json(by_alias=True, exclude_none=self.json_exclude_none)
