"""The OMATrust attestation schemas, read from the data files in `schemas/`.

The data ships inside the wheel as `omareview/_schemas`; a source checkout reads the repository's
`schemas/` folder directly, so there is one copy of the facts.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from omareview._hashing import keccak, to_checksum_address

__all__ = [
    "USER_REVIEW",
    "ZERO_ADDRESS",
    "EasSchema",
    "all_schemas",
    "data_file",
    "get_schema",
    "schema_by_uid",
    "schema_uid",
]

USER_REVIEW = "user-review"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def schema_uid(schema: str, resolver: str = ZERO_ADDRESS, revocable: bool = False) -> str:
    """`keccak256(abi.encodePacked(string schema, address resolver, bool revocable))`, as SchemaRegistry does."""
    packed = schema.encode("utf-8") + bytes.fromhex(to_checksum_address(resolver)[2:]) + bytes([revocable])
    return "0x" + keccak(packed).hex()


class EasSchema(BaseModel):
    """One schema as registered on EAS, with the UID its parameters produce.

    Attributes:
        name: omareview's short name (`user-review`).
        title: OMATrust's title.
        schema_string: the EAS schema string.
        revocable: whether attestations under it can be revoked.
        resolver: the resolver contract (zero for none).
        uid: the UID the parameters produce.
        known_uids: chain id → UID where it is registered differently.
        kind: what the schema is for, when OMATrust says.
        legacy: an older version kept for reading.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, populate_by_name=True)

    name: str
    title: str
    schema_string: str = Field(alias="schema")
    revocable: bool
    resolver: str = ZERO_ADDRESS
    uid: str
    known_uids: dict[int, str] = Field(default_factory=dict, alias="knownUids")
    kind: str | None = None
    legacy: bool = False

    @model_validator(mode="after")
    def _uid_matches_parameters(self) -> EasSchema:
        computed = schema_uid(self.schema_string, self.resolver, self.revocable)
        if computed != self.uid.lower():
            raise ValueError(f"schema {self.name}: listed uid {self.uid} but its parameters give {computed}")
        return self


def _data_dir() -> Path:
    packaged = Path(__file__).parent / "_schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


def data_file(name: str) -> Path:
    """Path of one file of the schema data (e.g. the User Review input JSON Schema)."""
    return _data_dir() / name


@cache
def _load() -> tuple[EasSchema, ...]:
    raw: dict[str, Any] = json.loads(data_file("omatrust-eas.json").read_text(encoding="utf-8"))
    current = [EasSchema.model_validate(item) for item in raw["schemas"]]
    legacy = [EasSchema.model_validate({**item, "legacy": True}) for item in raw["legacy"]]
    return (*current, *legacy)


def all_schemas(include_legacy: bool = True) -> list[EasSchema]:
    """Every OMATrust schema omareview knows, current first."""
    return [s for s in _load() if include_legacy or not s.legacy]


def get_schema(name: str) -> EasSchema:
    """A schema by its short name, e.g. `user-review`."""
    for schema in _load():
        if schema.name == name:
            return schema
    known = ", ".join(s.name for s in _load())
    raise KeyError(f"unknown OMATrust schema {name!r}; known: {known}")


def schema_by_uid(uid: str) -> EasSchema | None:
    """The schema whose UID this is, if omareview knows it."""
    wanted = uid.lower()
    return next((s for s in _load() if s.uid == wanted), None)
