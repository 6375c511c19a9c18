"""features: the stored macro facts (risk-appetite factor by business date)

Revision ID: 20261203_features_macro_facts
Revises: 20261203_business_date
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_features_macro_facts"
down_revision: str | None = "20261203_business_date"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "macro_facts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("risk_appetite", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_macro_facts_as_of_id", "macro_facts", ["as_of", "id"])


def downgrade() -> None:
    op.drop_index("ix_macro_facts_as_of_id", table_name="macro_facts")
    op.drop_table("macro_facts")
