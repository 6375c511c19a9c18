"""The business-date migration: its tables match the models, and a book that already had
closed days is seeded with the day after the newest one (not with today)."""

import datetime as dt

from alembic import command
from sqlalchemy import Date, bindparam, text

from limitwise.businessdate import service as business_dates
from limitwise.kit import migrate
from limitwise.kit.db import unit_of_work
from tests.schema import schema_diffs

TABLES = {"business_dates", "cob_failures"}


def test_migration_matches_models(engine):
    assert schema_diffs(engine, TABLES) == []


def test_an_existing_book_continues_from_its_last_closed_day(engine, db_url):
    command.downgrade(migrate.alembic_config(db_url), "20261203_lender_balances")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO servicing_products (code, definition_json, created_at) "
                "VALUES ('p', '{}', CURRENT_TIMESTAMP)"
            )
        )
        for ref, closed in (("A", dt.date(2026, 3, 19)), ("B", dt.date(2026, 3, 18))):
            conn.execute(
                text(
                    "INSERT INTO credit_accounts (ref, product_id, line_fen, status, opened_on,"
                    " cob_through, days_past_due, bucket, next_seq, created_at) SELECT :ref, id,"
                    " 100, 'active', :opened, :closed, 0, 'M0', 1,"
                    " CURRENT_TIMESTAMP FROM servicing_products"
                ).bindparams(bindparam("opened", type_=Date), bindparam("closed", type_=Date)),
                {"ref": ref, "opened": dt.date(2026, 1, 5), "closed": closed},
            )
    migrate.upgrade(db_url)
    with unit_of_work(engine) as session:
        dates = business_dates.book_dates(session)
    closed = dt.date(2026, 3, 19)
    assert dates == business_dates.BookDates(closed + dt.timedelta(days=1), closed, False)
