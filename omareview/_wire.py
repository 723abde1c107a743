"""The one base of every JSON document omareview hands out: camelCase keys, one configuration.

Byte-exact wire payloads (signed offers and receipts) are `TypedDict`s instead: a model would coerce them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from omareview._json import JsonObject

__all__ = ["WireModel", "omitted"]


def _is_none(value: object) -> bool:
    return value is None


def omitted() -> Any:
    """The default of an optional field that the JSON form leaves out while it is None, in a document whose
    other None fields show as `null`."""
    return Field(default=None, exclude_if=_is_none)


class WireModel(BaseModel):
    """A frozen model whose JSON form has camelCase keys; fields accept their Python names too."""

    model_config = ConfigDict(defer_build=True, alias_generator=to_camel, populate_by_name=True, frozen=True)

    #: Leave `None` fields out of the JSON form (for documents whose optional parts are absent, not null).
    #: Set per field, so a document keeps its shape wherever it is nested: pydantic's own `exclude_none`
    #: would apply to the whole tree, turning every other document's `null` into an absent key.
    json_exclude_none: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.json_exclude_none:
            for field in cls.model_fields.values():
                field.exclude_if = _is_none

    def to_json(self) -> JsonObject:
        """The JSON document: camelCase keys, JSON types only."""
        return self.model_dump(mode="json", by_alias=True)

    def to_json_text(self) -> str:
        """The same document as compact JSON text, serialized by pydantic-core: several times faster than
        `json.dumps(self.to_json())`, which counts when results stream by the ten thousand."""
        return self.model_dump_json(by_alias=True)
