"""Migration 20261204_cob_ledger_indexes: the ledger accounts match the models, an entry can
still be reversed only once (the partial unique index on PostgreSQL, the table constraint on
SQLite), close of business's tables leave half of each page free on PostgreSQL, and the
migration goes down and up again."""

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from limitwise.kit import migrate
from tests.schema import schema_diffs

NOW = dt.datetime(2026, 12, 4, 19, 0, tzinfo=dt.UTC)
ENTRY = text(
    "INSERT INTO journal_entries (entry_ref, kind, effective_date, posted_at, description,"
    " reverses_entry_id) VALUES (:ref, 'test', '2026-12-04', :now, '', :reverses)"
)


def _entry(engine: Engine, ref: str, reverses: int | None) -> None:
    with engine.begin() as conn:
        conn.execute(ENTRY, {"ref": ref, "now": NOW, "reverses": reverses})


def _entry_id(engine: Engine, ref: str) -> int:
    with engine.connect() as conn:
        query = text("SELECT id FROM journal_entries WHERE entry_ref = :ref")
        return int(conn.execute(query, {"ref": ref}).scalar_one())


def test_ledger_accounts_match_the_models(engine):
    assert schema_diffs(engine, {"ledger_accounts"}) == []


def test_an_entry_is_reversed_at_most_once_and_many_entries_reverse_nothing(engine):
    # entries without legs: the balance trigger (PostgreSQL) only fires on legs
    _entry(engine, "original", None)
    _entry(engine, "plain", None)  # many NULLs never conflict
    original = _entry_id(engine, "original")
    _entry(engine, "reversal", original)
    with pytest.raises(IntegrityError):
        _entry(engine, "second reversal", original)


def test_daily_updated_tables_leave_room_for_a_second_row_version(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("fillfactor is a PostgreSQL storage parameter")
    with engine.connect() as conn:
        options = dict(
            conn.execute(
                text(
                    "SELECT relname, reloptions FROM pg_class WHERE relname IN"
                    " ('credit_accounts', 'draws', 'instalments', 'ledger_accounts')"
                )
            ).all()
        )
    assert options == {table: ["fillfactor=50"] for table in options} and len(options) == 4


def test_the_migration_goes_down_and_up(engine, db_url):
    config = migrate.alembic_config(db_url)
    command.downgrade(config, "20261204_routes_submitters")
    with engine.connect() as conn:
        indexes = {
            row[0]
            for row in conn.execute(
                text(
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'ledger_accounts'"
                    if engine.dialect.name == "postgresql"
                    else "SELECT name FROM sqlite_master WHERE type = 'index'"
                    " AND tbl_name = 'ledger_accounts'"
                )
            )
        }
    assert "ix_ledger_accounts_owner_ref" in indexes
    assert "ix_ledger_accounts_owner_ref_purpose" not in indexes
    migrate.upgrade(db_url)
    assert schema_diffs(engine, {"ledger_accounts"}) == []
