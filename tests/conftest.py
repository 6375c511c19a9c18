"""Storage fixtures: every storage test runs on SQLite and on a real PostgreSQL.

Each backend's schema is migrated once per test session (per xdist worker) into a template;
each test gets a fresh copy (a copied SQLite file, or ``CREATE DATABASE ... TEMPLATE``) and
it is dropped afterwards. Where no PostgreSQL can be had the PostgreSQL half skips with a
clear message, except under CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine
from tests import pgserver

#: The tests use the published development PII keys (kit/settings.require_own_keys).
os.environ["LIMITWISE_ENV"] = "dev"

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.PgServer | None]:
    server = pgserver.find_server()
    yield server
    if server is not None:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: pgserver.PgServer | None) -> Iterator[str | None]:
    if pg_server is None:
        yield None
        return
    name = f"lw_tmpl_{uuid.uuid4().hex[:12]}"
    url = pgserver.create_database(pg_server, name)
    migrate.upgrade(url)
    yield name
    pgserver.drop_database(pg_server, name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def _require_postgres(server: pgserver.PgServer | None) -> pgserver.PgServer:
    if server is None:
        message = (
            "no PostgreSQL reachable: set LIMITWISE_TEST_POSTGRES_URL, run one on "
            "127.0.0.1:5432, or install the server binaries (initdb, pg_ctl)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return server


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A freshly migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    server = _require_postgres(request.getfixturevalue("pg_server"))
    template = request.getfixturevalue("pg_template")
    name = f"lw_test_{uuid.uuid4().hex[:12]}"
    url = pgserver.create_database(server, name, template=template)
    yield url
    pgserver.drop_database(server, name)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock.fixed(dt.date(2026, 1, 5))
