"""servicing: the partitions of a set-based close of business (account-id ranges workers
claim with ``FOR UPDATE SKIP LOCKED``)

Revision ID: 20261203_cob_partitions_cob
Revises: 20261203_auth
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_cob_partitions_cob"
down_revision: str | None = "20261203_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: Rows close of business updates every day, in columns no index covers: room left on each
#: page lets PostgreSQL update them in place (HOT), without touching any index.
HOT_TABLES = {"credit_accounts": 80, "draws": 80, "instalments": 80, "ledger_accounts": 80}


def upgrade() -> None:
    op.create_table(
        "cob_partitions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("lo_id", sa.BigInteger, nullable=False),
        sa.Column("hi_id", sa.BigInteger, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("accounts_closed", sa.Integer, nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("business_date", "lo_id", name="uq_cob_partitions_business_date_lo_id"),
    )

    if op.get_bind().dialect.name == "postgresql":
        for table, fillfactor in HOT_TABLES.items():
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {fillfactor})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in HOT_TABLES:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
    op.drop_table("cob_partitions")
