"""business date: the stored business date and COB date (one row), and the accounts close
of business could not close

Revision ID: 20261203_business_date
Revises: 20261203_lender_balances
Create Date: 2026-12-03 08:00:00

A book that already has closed days gets the day after the newest one as its business
date; a new book gets today on the wall clock in the business time zone.
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from limitwise.kit.clock import wall_today
from limitwise.kit.settings import get_settings

revision: str = "20261203_business_date"
down_revision: str | None = "20261203_lender_balances"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FAILURE_ACCOUNT_FK = "fk_cob_failures_credit_account_id_credit_accounts"


def upgrade() -> None:
    dates = op.create_table(
        "business_dates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("cob_closed_through", sa.Date),
        sa.Column("simulation", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_business_dates_one_row"),
    )
    op.create_table(
        "cob_failures",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "credit_account_id",
            BigId,
            sa.ForeignKey(
                "credit_accounts.id", name="fk_cob_failures_credit_account_id_credit_accounts"
            ),
            nullable=False,
            unique=True,
        ),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    )
    closed = op.get_bind().scalar(sa.text("SELECT max(cob_through) FROM credit_accounts"))
    if isinstance(closed, str):  # SQLite hands back the stored text
        closed = dt.date.fromisoformat(closed)
    business_date = (
        closed + dt.timedelta(days=1) if closed else wall_today(get_settings().business_time_zone)
    )
    op.bulk_insert(
        dates,
        [
            {
                "id": 1,
                "business_date": business_date,
                "cob_closed_through": closed,
                "simulation": False,
                "updated_at": dt.datetime.now(dt.UTC),
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("cob_failures")
    op.drop_table("business_dates")
