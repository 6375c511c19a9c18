"""A request that meets a locked or racing database is retried when safe, then refused in
the problem shape: 503 with ``Retry-After`` (busy) or 409 (lost race), never a bare 500."""

from __future__ import annotations

import io
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError

from limitwise.api import guards
from limitwise.api.app import create_app
from limitwise.demo import run_demo
from limitwise.servicing import service
from tests.api.credentials import api_key


@pytest.fixture
def book(tmp_path: Path, sqlite_template: Path) -> Path:
    path = tmp_path / "book.db"
    shutil.copyfile(sqlite_template, path)
    return path


@pytest.fixture
def client(book: Path) -> Iterator[TestClient]:
    app = create_app(f"sqlite:///{book}")
    _key_id, headers = api_key(app.state.engine)

    @event.listens_for(app.state.engine, "connect")
    def _wait_briefly(dbapi_connection, _record):  # the default waits 30 s for a lock
        dbapi_connection.execute("PRAGMA busy_timeout=20")

    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(headers)
        yield client
    app.state.engine.dispose()


def test_a_locked_sqlite_book_is_503_with_retry_after(client, book):
    holder = sqlite3.connect(book, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = client.get("/v1/accounts")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == guards.RETRY_AFTER_SECONDS
    assert response.json()["code"] == "database_busy"
    assert client.get("/v1/accounts").json() == []


def _failing(times: int, error: Exception, calls: list[int]):
    def account_refs(_session):
        calls.append(1)
        if len(calls) <= times:
            raise error
        return []

    return account_refs


def _operational(message: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception(message))


def test_a_transient_failure_is_retried_and_answered(client, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(service, "account_refs", _failing(2, _operational("locked"), calls))
    response = client.get("/v1/accounts")
    assert (response.status_code, response.json(), len(calls)) == (200, [], 3)


def test_a_lost_race_that_outlasts_the_retries_is_409(client, monkeypatch):
    calls: list[int] = []
    race = IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
    monkeypatch.setattr(service, "account_refs", _failing(99, race, calls))
    response = client.get("/v1/accounts")
    assert response.status_code == 409
    assert response.json()["code"] == "concurrent_update"
    assert len(calls) == guards.RETRY_ATTEMPTS


@pytest.mark.parametrize(
    "defect",
    [
        _operational("no such table: accounts"),
        IntegrityError("INSERT", {}, Exception("FOREIGN KEY constraint failed")),
    ],
    ids=["missing-table", "foreign-key"],
)
def test_a_defect_is_not_retried_as_if_it_were_a_race(client, monkeypatch, defect):
    calls: list[int] = []
    monkeypatch.setattr(service, "account_refs", _failing(99, defect, calls))
    response = client.get("/v1/accounts")
    assert (response.status_code, response.json()["code"], len(calls)) == (500, "internal_error", 1)


def test_host_names_lose_their_port():
    assert guards.host_name("Example.COM:8000") == "example.com"
    assert guards.host_name("[::1]:8000") == "::1"
    assert guards.host_name("::1") == "::1"


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_row_lock_on_postgresql_is_retried_then_503_and_applies_nothing(db_url):
    url = db_url
    assert run_demo(url, accounts=1, console=Console(file=io.StringIO())) == 0
    app = create_app(url)

    @event.listens_for(app.state.engine, "connect")
    def _give_up_quickly(dbapi_connection, _record):  # PostgreSQL waits for ever by default
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '50ms'")
        dbapi_connection.commit()

    holder = create_engine(url)
    _key_id, headers = api_key(app.state.engine)
    repay = {"json": {"amount_fen": 10_00}, "headers": {"Idempotency-Key": "locked-1"}}
    try:
        with TestClient(app, raise_server_exceptions=False, headers=headers) as client:
            before = client.get("/v1/accounts/DEMO-001").json()
            with holder.begin() as connection:
                connection.execute(
                    text("SELECT 1 FROM credit_accounts WHERE ref = 'DEMO-001' FOR UPDATE")
                )
                locked = client.post("/v1/accounts/DEMO-001/repayments", **repay)
            assert locked.status_code == 503, locked.text
            assert locked.headers["retry-after"] == guards.RETRY_AFTER_SECONDS
            assert client.get("/v1/accounts/DEMO-001").json() == before
            paid = client.post("/v1/accounts/DEMO-001/repayments", **repay)
            assert paid.status_code == 201, paid.text
    finally:
        holder.dispose()
        app.state.engine.dispose()
