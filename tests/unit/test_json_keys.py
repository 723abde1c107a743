"""Every document omareview writes as JSON is a model on the camelCase base: its keys are snapshotted in
`tests/vectors/json_keys.json`, so a key that changes is a visible change, and a snake_case key cannot leak.

The configuration files are the exception: `policy.toml`'s documented keys are snake_case, and
`config.toml`'s tables kebab-case. Regenerate the snapshot after a deliberate change with `OMAREVIEW_WRITE_SNAPSHOT=1`.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import re
from pathlib import Path

from pydantic import BaseModel

import omareview

SNAPSHOT = Path(__file__).resolve().parents[1] / "vectors" / "json_keys.json"
#: Configuration read from TOML under its documented snake_case keys, not a wire document.
CONFIG_MODELS = {
    "omareview.gate.policy.Policy",
    "omareview.gate.policy.Tier",
    "omareview.gate.policy.AttestSealPolicy",
    "omareview._home.ConfigFile",
}
CAMEL = re.compile(r"[a-z][a-zA-Z0-9]*")


def _models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for info in pkgutil.walk_packages(omareview.__path__, "omareview."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, BaseModel) and value.__module__ == module.__name__:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def _keys(model: type[BaseModel]) -> list[str]:
    generate = model.model_config.get("alias_generator")
    keys = []
    for name, field in model.model_fields.items():
        alias = field.serialization_alias or field.alias
        keys.append(alias or (generate(name) if callable(generate) else name))
    return keys


def test_every_json_document_has_camel_case_keys() -> None:
    leaks = {
        name: [key for key in _keys(model) if not CAMEL.fullmatch(key)]
        for name, model in _models().items()
        if name not in CONFIG_MODELS
    }
    assert {name: keys for name, keys in leaks.items() if keys} == {}


def test_the_keys_match_the_snapshot() -> None:
    keys = {name: _keys(model) for name, model in sorted(_models().items())}
    if os.environ.get("OMAREVIEW_WRITE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(keys, indent=2) + "\n")
    assert keys == json.loads(SNAPSHOT.read_text()), "a document's keys changed: regenerate the snapshot if meant"
