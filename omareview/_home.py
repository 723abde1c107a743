"""Where omareview keeps state, indexes and its config file."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from pydantic import ConfigDict, Field, JsonValue, ValidationError

from omareview._files import PRIVATE_DIR_MODE, make_private
from omareview._wire import WireModel
from omareview.errors import ConfigError

__all__ = ["CONFIG_FILE_NAME", "CONFIG_KEYS", "ConfigFile", "home_dir", "load_config"]

CONFIG_FILE_NAME = "config.toml"
#: The tables and keys `config.toml` may hold; anything else is a typo worth naming.
CONFIG_KEYS = frozenset({"networks", "payment-networks", "store"})


def home_dir() -> Path:
    """`$OMAREVIEW_HOME`, else `~/.omareview`; created on first use."""
    configured = os.environ.get("OMAREVIEW_HOME")
    path = Path(configured).expanduser() if configured else Path.home() / ".omareview"
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    make_private(path)
    return path


class ConfigFile(WireModel):
    """What `config.toml` holds. Its tables are checked by what reads them (`omareview.networks`), which
    names the table and key at fault.

    Attributes:
        networks: `[networks.<name>]` tables: review networks by name.
        payment_networks: `[payment-networks."<CAIP-2>"]` tables: where payments are checked.
        store: the index's store URL (None: the embedded SQLite file per network).
    """

    model_config = ConfigDict(extra="forbid")

    networks: dict[str, dict[str, JsonValue]] = Field(default_factory=dict)
    payment_networks: dict[str, JsonValue] = Field(default_factory=dict, alias="payment-networks")
    store: str | None = None


def load_config(home: Path | None = None) -> ConfigFile:
    """The parsed `config.toml` under the home directory (empty when there is none). Read once per version
    of the file: a command asks for it several times (networks, payment networks, the store), and a
    long-lived process sees an edit at its next read."""
    path = (home or home_dir()) / CONFIG_FILE_NAME
    try:
        seen = path.stat()
    except FileNotFoundError:
        return ConfigFile()
    return _read_config(path, seen.st_mtime_ns, seen.st_size)


@functools.lru_cache(maxsize=16)
def _read_config(path: Path, mtime_ns: int, size: int) -> ConfigFile:
    import tomllib  # only when there is a file to read

    try:
        with path.open("rb") as handle:
            config = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it", reason="bad-config-file") from exc
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(CONFIG_KEYS))})", reason="bad-config-file"
        )
    try:
        return ConfigFile.model_validate(config)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}", reason="bad-config-file") from None
