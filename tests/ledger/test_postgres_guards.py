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


INSERT_NAMED_ENTRY = text(
    "INSERT INTO journal_entries (entry_ref, kind, effective_date, posted_at, description) "
    "VALUES (:ref, 'manual', :d, :t, '') RETURNING id"
)
INSERT_LEG = text(
    "INSERT INTO journal_legs (entry_id, account_id, amount_fen, balance_after_fen) "
    "VALUES (:e, :a, :amount, NULL)"
)
NOW = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def _entry(conn, ref: str, account_id: int, *amounts: int) -> int:
    entry_id = conn.execute(INSERT_NAMED_ENTRY, {"ref": ref, "d": NOW.date(), "t": NOW})
    entry_id = entry_id.scalar_one()
    for amount in amounts:
        conn.execute(INSERT_LEG, {"e": entry_id, "a": account_id, "amount": amount})
    return entry_id


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_leg_added_to_an_entry_checked_before_is_checked_again(engine, clock):
    """The trigger sums each entry once per run of its legs (migration
    20261205_cob_summary_entries); a later leg of an entry already summed, in the same
    transaction or a later one, is summed again."""
    open_books(engine, clock, "A", 1000_00)
    with engine.connect() as conn:
        funding = conn.execute(FUNDING_ID).scalar_one()
    with pytest.raises(DBAPIError, match="unbalanced"), engine.begin() as conn:
        first = _entry(conn, "je_a", funding, 5, -5)
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # je_a is summed here: balanced
        conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
        conn.execute(INSERT_LEG, {"e": first, "a": funding, "amount": 3})
    with engine.begin() as conn:
        balanced = _entry(conn, "je_c", funding, *([1] * 500), -500)
    with pytest.raises(DBAPIError, match="unbalanced"), engine.begin() as conn:
        conn.execute(INSERT_LEG, {"e": balanced, "a": funding, "amount": 3})
    with engine.connect() as conn:
        refs = conn.execute(text("SELECT entry_ref FROM journal_entries")).scalars().all()
        assert refs == ["je_c"]
