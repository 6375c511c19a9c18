"""PostgreSQL enforces the balance itself, at commit, with a deferred constraint trigger."""

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.ledger.helpers import open_books

INSERT_ENTRY = text(
    "INSERT INTO journal_entries (entry_ref, kind, effective_date, posted_at, description) "
    "VALUES ('je_x', 'manual', :d, :t, '') RETURNING id"
)
FUNDING_ID = text("SELECT id FROM ledger_accounts WHERE code = 'lender:funding'")
INSERT_ONE_LEG = text(
    "INSERT INTO journal_legs (entry_id, account_id, amount_fen, balance_after_fen) "
    "VALUES (:e, :a, 5, 5)"
)


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_unbalanced_entry_cannot_commit_on_postgres(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    now = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    with pytest.raises(DBAPIError, match="unbalanced"), engine.begin() as conn:
        entry_id = conn.execute(INSERT_ENTRY, {"d": now.date(), "t": now}).scalar_one()
        account_id = conn.execute(FUNDING_ID).scalar_one()
        conn.execute(INSERT_ONE_LEG, {"e": entry_id, "a": account_id})
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM journal_entries")).scalar_one() == 0
