"""The index's two storage engines behind one small interface: SQLite (embedded, the default) and
PostgreSQL (`psycopg` 3 with a connection pool, for a store several processes share).

The store writes its queries once, in the SQL both engines speak (`?` placeholders, `ON CONFLICT`
upserts, `LIKE`); an engine turns them into its own (`%s` placeholders) and supplies the two snippets that
differ (reading a JSON field). PostgreSQL keeps each network's tables in a schema of their own, named from the
network's chain id and EAS address, so one database holds every network side by side with the same queries.
Migrations are versioned in a `schema_version` table and applied in one transaction each, serialized across
processes (an immediate transaction in SQLite, a transaction-scoped advisory lock in PostgreSQL).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

from omareview._home import load_config
from omareview._owners import new_owner, owner_is_gone
from omareview._sqlite import Database
from omareview.errors import ConfigError

__all__ = [
    "STORE_ENV",
    "Engine",
    "PostgresEngine",
    "SqliteEngine",
    "Tx",
    "check_store_url",
    "store_url",
]

STORE_ENV = "OMAREVIEW_STORE"
#: A row as an engine returns it, by column name: storage, not a document (`index._rows` types it).
Row = Mapping[str, Any]
#: (version, statements) in order; each version is applied once, in one transaction.
Migrations = Sequence[tuple[int, Sequence[str]]]


class Tx(Protocol):
    """One transaction's statements."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; how many rows it changed."""
        ...

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None: ...

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class Engine(Protocol):
    """Where the index's tables live."""

    dialect: Literal["sqlite", "postgresql"]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """A query outside any transaction (each engine's own snapshot of committed data)."""
        ...

    def transaction(self) -> AbstractContextManager[Tx]:
        """A context manager yielding a `Tx`: committed on exit, rolled back on an exception."""
        ...

    def json_text(self, column: str, *path: str) -> str:
        """The SQL reading the text at `path` inside a JSON `column`."""
        ...

    def try_lock(self, name: str) -> bool:
        """Take the store-wide lock `name` for this process's life (False: another holds it)."""
        ...

    def unlock(self, name: str) -> None: ...

    def close(self) -> None: ...


def check_store_url(url: str) -> str:
    """`url` when it names a store omareview can open (a PostgreSQL URL, or `sqlite:///PATH`), else a
    ConfigError saying what is accepted."""
    if url.startswith(("postgresql://", "postgres://", "sqlite:///")):
        return url
    raise ConfigError(
        f"the store {url.split('@')[-1][:60]!r} is neither postgresql://… nor sqlite:///PATH "
        "(leave it unset for the embedded SQLite index)",
        reason="bad-store",
    )


def store_url(explicit: str | None = None, home: Path | None = None) -> str | None:
    """The store to open: `explicit`, else `$OMAREVIEW_STORE`, else `store` in config.toml, else None
    (the embedded SQLite file per network)."""
    chosen = explicit or os.environ.get(STORE_ENV) or load_config(home).store
    return check_store_url(chosen) if chosen is not None else None


class _SqliteTx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._db.execute(sql, tuple(params)).rowcount

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(sql, [tuple(p) for p in params])

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self._db.execute(sql, tuple(params)))


class SqliteEngine:
    """One SQLite file (WAL) for one network.

    Parameters:
        path: the database file.
        migrations: the store's schema, by version.
    """

    dialect: Literal["sqlite", "postgresql"] = "sqlite"

    def __init__(self, path: Path, migrations: Migrations) -> None:
        self.path = path
        self._owner = new_owner()
        self._database = Database(path, "", synchronous="NORMAL")
        with self.transaction() as tx:
            _migrate(tx, migrations)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self._database.connection().execute(sql, tuple(params)))

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._database.transaction() as db:
            yield _SqliteTx(db)

    def json_text(self, column: str, *path: str) -> str:
        return f"json_extract({column}, '$.{'.'.join(path)}')"

    def try_lock(self, name: str) -> bool:
        owner = self._owner
        with self.transaction() as tx:
            tx.execute("CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL)")
            held = tx.rows("SELECT owner FROM locks WHERE name = ?", (name,))
            if held and held[0]["owner"] != owner and not owner_is_gone(str(held[0]["owner"])):
                return False
            tx.execute(
                "INSERT INTO locks (name, owner) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner",
                (name, owner),
            )
        return True

    def unlock(self, name: str) -> None:
        with self.transaction() as tx:
            tx.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, self._owner))

    def close(self) -> None:
        self._database.close()


def _migrate(tx: Tx, migrations: Migrations) -> None:
    """Apply, in order, every migration the store has not had yet (the caller holds the migration lock)."""
    tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY)")
    done = {int(row["version"]) for row in tx.rows("SELECT version FROM schema_version")}
    for version, statements in migrations:
        if version not in done:
            for statement in statements:
                tx.execute(statement)
            tx.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


class _PostgresTx:
    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        count: int = self._connection.execute(_pg(sql), tuple(params)).rowcount
        return count

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        with self._connection.cursor() as cursor:
            cursor.executemany(_pg(sql), [tuple(p) for p in params])

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        found: list[Row] = self._connection.execute(_pg(sql), tuple(params)).fetchall()
        return found


def schema_name(network_name: str, chain_id: int | None, eas_address: str) -> str:
    """The PostgreSQL schema holding one network's tables (≤ 63 characters, lowercase)."""
    safe = re.sub(r"[^a-z0-9_]", "_", network_name.lower())[:24]
    return f"omareview_{chain_id or 0}_{eas_address.lower()[2:12]}_{safe}"


class PostgresEngine:
    """One PostgreSQL database, this network's tables in a schema of their own, through a pool.

    Parameters:
        url: the `postgresql://` URL.
        schema: the schema of this network's tables.
        migrations: the store's schema, by version.
        pool_size: the most connections this process opens.
    """

    dialect: Literal["sqlite", "postgresql"] = "postgresql"

    def __init__(self, url: str, schema: str, migrations: Migrations, *, pool_size: int = 8) -> None:
        try:
            import psycopg
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"a PostgreSQL store needs psycopg ({exc.name} is missing): pip install 'omareview[postgres]'",
                reason="postgres-missing",
            ) from None
        self.schema = schema
        self._url = url
        self._locks: dict[str, Any] = {}
        self._lock = threading.Lock()

        def configure(connection: Any) -> None:
            connection.execute(f'SET search_path TO "{schema}"')

        try:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        except psycopg.Error as exc:
            raise ConfigError(f"cannot open the PostgreSQL store: {_safe(exc, url)}", reason="bad-store") from None
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "row_factory": dict_row},
            configure=configure,
            open=True,
        )
        with self.transaction() as tx:
            tx.execute("SELECT pg_advisory_xact_lock(?)", (_key(f"{schema}/migrations"),))
            _migrate(tx, migrations)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._pool.connection() as connection:
            found: list[Row] = connection.execute(_pg(sql), tuple(params)).fetchall()
            return found

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._pool.connection() as connection, connection.transaction():
            yield _PostgresTx(connection)

    def json_text(self, column: str, *path: str) -> str:
        return f"({column}::jsonb #>> '{{{','.join(path)}}}')"

    def try_lock(self, name: str) -> bool:
        import psycopg

        with self._lock:
            if name in self._locks:
                return True
            connection = psycopg.connect(self._url, autocommit=True)
            taken = connection.execute("SELECT pg_try_advisory_lock(%s)", (_key(f"{self.schema}/{name}"),)).fetchone()
            if not taken or not taken[0]:
                connection.close()
                return False
            self._locks[name] = connection
            return True

    def unlock(self, name: str) -> None:
        with self._lock:
            connection = self._locks.pop(name, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for name in list(self._locks):
            self.unlock(name)
        self._pool.close()


def _key(text: str) -> int:
    """A stable signed 64-bit advisory-lock key for `text`."""
    value = zlib.crc32(text.encode()) << 32 | zlib.crc32(text[::-1].encode())
    return value - (1 << 64) if value >= 1 << 63 else value


def _safe(exc: Exception, url: str) -> str:
    """The driver's message without the URL's password."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    password = re.search(r"://[^:/@]+:([^@]+)@", url)
    return message.replace(password.group(1), "***") if password else message
