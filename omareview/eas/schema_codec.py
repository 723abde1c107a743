"""EAS schema strings: parsed like eas-sdk's SchemaEncoder (a Solidity parameter list) and encoded with
eth-abi, byte-identical to `SchemaEncoder.encodeData`.

Names are optional, `uint`/`int` mean `uint256`/`int256`, `ipfsHash` means `bytes32`, and arrays, fixed
arrays, tuples and tuple arrays nest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from omareview.errors import InputError

__all__ = [
    "SchemaField",
    "abi_types",
    "decode_data",
    "decode_fields",
    "encode_data",
    "parse_schema",
    "split_top_level",
]

_INT_SIZES = "|".join(str(bits) for bits in range(8, 257, 8))
_ELEMENTARY = re.compile(rf"^(address|bool|string|bytes([1-9]|[12][0-9]|3[0-2])?|u?int({_INT_SIZES})?)$")
_ARRAY_SUFFIX = re.compile(r"(\[\d*\])+$")
_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class SchemaField:
    name: str
    type: str


def split_top_level(text: str) -> list[str]:
    """Split at the commas outside parentheses: `a,(b,c)[],d` → `a`, `(b,c)[]`, `d`."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise InputError("unbalanced ')' in the schema", reason="bad-attestation-data")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise InputError("unbalanced '(' in the schema", reason="bad-attestation-data")
    parts.append("".join(current))
    return parts


def _canonical_type(text: str) -> str:
    text = text.strip()
    suffix_match = _ARRAY_SUFFIX.search(text)
    suffix = suffix_match.group(0) if suffix_match else ""
    base = text[: len(text) - len(suffix)].strip()
    if base.startswith("("):
        if not base.endswith(")"):
            raise InputError(f"malformed tuple type {text!r}", reason="bad-attestation-data")
        inner = [_parse_item(item).type for item in split_top_level(base[1:-1])]
        return f"({','.join(inner)}){suffix}"
    base = {"uint": "uint256", "int": "int256", "ipfsHash": "bytes32"}.get(base, base)
    if not _ELEMENTARY.match(base):
        raise InputError(f"unknown type {base!r} in the schema", reason="bad-attestation-data")
    return base + suffix


def _parse_item(item: str) -> SchemaField:
    text = item.strip()
    if not text:
        raise InputError("the schema has an empty item (two commas in a row?)", reason="bad-attestation-data")
    depth, split = 0, -1
    for index, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if char.isspace() and depth == 0:
            split = index
    if split == -1:
        return SchemaField("", _canonical_type(text))
    type_part, name = text[:split], text[split + 1 :]
    if not _NAME.match(name):
        raise InputError(f"{name!r} is not a valid field name in the schema", reason="bad-attestation-data")
    return SchemaField(name, _canonical_type(type_part))


def parse_schema(schema: str) -> tuple[SchemaField, ...]:
    """The fields of an EAS schema string; InputError says what is wrong with a malformed one."""
    if ";" in schema:
        raise InputError("schema items are separated by ',' not ';'", reason="bad-attestation-data")
    if not schema.strip():
        return ()
    return tuple(_parse_item(item) for item in split_top_level(schema))


def abi_types(schema: str) -> list[str]:
    return [field.type for field in parse_schema(schema)]


def encode_data(schema: str, values: Sequence[Any]) -> bytes:
    """`abi.encode` of the values in schema order."""
    types = abi_types(schema)
    if len(values) != len(types):
        raise InputError(
            f"the schema has {len(types)} fields, {len(values)} values were given", reason="bad-attestation-data"
        )
    from eth_abi.abi import encode as abi_encode
    from eth_abi.exceptions import EncodingError

    try:
        return abi_encode(types, list(values))
    except (EncodingError, TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"the values do not fit the schema ({exc})", reason="bad-attestation-data") from exc


def decode_data(schema: str, data: bytes) -> tuple[Any, ...]:
    """The values encoded in attestation data; InputError when the bytes do not fit the schema."""
    from eth_abi.abi import decode as abi_decode
    from eth_abi.exceptions import DecodingError

    try:
        return tuple(abi_decode(abi_types(schema), data, strict=False))
    except (DecodingError, OverflowError, ValueError) as exc:
        raise InputError(
            f"the attestation data does not decode with the schema ({exc})", reason="bad-attestation-data"
        ) from exc


def decode_fields(schema: str, data: bytes) -> dict[str, object]:
    """The values encoded in attestation data, by field name; InputError when the bytes do not fit."""
    names = [field.name for field in parse_schema(schema)]
    return dict(zip(names, decode_data(schema, data), strict=True))
