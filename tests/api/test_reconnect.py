"""The pool does not ping a connection before each use (a round trip per request): a
connection PostgreSQL has closed fails its first statement, SQLAlchemy discards the pool,
and the request is run again on a fresh connection, so the caller never sees it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from limitwise.kit.db import make_engine

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_read_on_a_connection_the_server_closed_is_answered(served, db_url):
    api, as_ = served
    assert api.get("/v1/accounts/DEMO-001", headers=as_["borrower"]).status_code == 200
    database = db_url.rsplit("/", 1)[1]
    killer = make_engine(db_url)
    with killer.begin() as conn:
        closed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"
            ),
            {"db": database},
        ).scalar_one()
    killer.dispose()
    assert closed >= 1  # the server's pooled connections
    response = api.get("/v1/accounts/DEMO-001", headers=as_["borrower"])
    assert response.status_code == 200, response.text
    assert response.json()["ref"] == "DEMO-001"
