"""Database plumbing: engines, the declarative base, and the unit of work.

SQLite is the embedded default and PostgreSQL is production. On SQLite every transaction
starts with ``BEGIN IMMEDIATE`` so writers serialise up front instead of failing on lock
upgrade; on PostgreSQL repositories take row locks (``FOR UPDATE``) in sorted id order.
Services never commit: the caller owns the transaction through :func:`unit_of_work`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Engine, Integer, MetaData, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

from limitwise.kit.errors import InvalidInput
from limitwise.kit.settings import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: 64-bit integer that is still an autoincrementing rowid alias on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def resolve_url(url: str | None) -> str:
    """The database URL: the explicit one, else ``LIMITWISE_DATABASE_URL``, else SQLite."""
    return url or get_settings().database_url


#: Backend -> the drivers limitwise is tested with (``None``: the URL names no driver).
SUPPORTED_DRIVERS: dict[str, set[str | None]] = {
    "sqlite": {None, "pysqlite"},
    "postgresql": {None, "psycopg"},
    "postgres": {None, "psycopg"},
}
URL_FORMS = "sqlite:///FILE, sqlite:// (in memory) or postgresql://USER@HOST/DB"


def parse_url(url: str) -> URL:
    """Parse a database URL, refusing paths, typos and unsupported databases by name."""
    if "://" not in url:
        raise InvalidInput(
            f"'{url}' is a path, not a database URL: use sqlite:///{url} (forms: {URL_FORMS})",
            field="--db",
            code="not_a_url",
        )
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(
            f"'{url}' is not a database URL (forms: {URL_FORMS})", field="--db", code="not_a_url"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    drivers = SUPPORTED_DRIVERS.get(backend)
    if drivers is None or (driver or None) not in drivers:
        raise InvalidInput(
            f"unsupported database '{parsed.drivername}': limitwise runs on SQLite and "
            f"PostgreSQL (psycopg); use {URL_FORMS}",
            field="--db",
            code="unsupported_database",
        )
    return parsed


def sqlite_file(parsed: URL) -> Path | None:
    """The file of a SQLite URL, or ``None`` for in-memory databases and other backends."""
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_url(url: str | None, *, may_create: bool) -> str:
    """The resolved URL, if it is usable; a missing SQLite file only where it may be created."""
    resolved = resolve_url(url)
    path = sqlite_file(parse_url(resolved))
    if path is not None and not may_create and not path.exists():
        raise InvalidInput(
            f"the SQLite file {path} does not exist: create it with "
            f"`limitwise db upgrade --db {resolved}` (or `init`, `demo`)",
            field="--db",
            code="database_not_found",
        )
    return resolved


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for them."""
    parsed = parse_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _configure_sqlite(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE instead of pysqlite's BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None = None, *, echo: bool | None = None) -> Engine:
    """Create an engine for ``url`` with the dialect settings limitwise relies on."""
    resolved = normalise_url(resolve_url(url))
    parsed = make_url(resolved)
    echo = get_settings().sql_echo if echo is None else echo
    if parsed.get_backend_name() == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if in_memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(resolved, echo=echo, **kwargs)
        _configure_sqlite(engine, in_memory=in_memory)
        return engine
    settings = get_settings()
    return create_engine(
        resolved,
        echo=echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # No ping on every checkout (a round trip per request): a connection the server
        # dropped fails its first statement, SQLAlchemy then discards the whole pool, and
        # the API runs a safe request again (api/guards.py).
        pool_pre_ping=False,
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: commits when the block ends, rolls everything back on any error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


#: On PostgreSQL a read-only transaction on one snapshot: every statement sees the database
#: as the first one did, and any write fails. psycopg sends it with the ``BEGIN`` itself.
SNAPSHOT_OPTIONS = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


@contextmanager
def snapshot_unit_of_work(engine: Engine) -> Iterator[Session]:
    """A transaction that only reads, all of it from one snapshot of the database (on
    SQLite every transaction is: ``BEGIN IMMEDIATE`` keeps writers out until it ends)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if not is_sqlite(engine):
            session.connection(execution_options=SNAPSHOT_OPTIONS)
        yield session
