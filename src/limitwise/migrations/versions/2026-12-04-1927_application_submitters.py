"""auth: the borrower who submitted each application through the API (who may read it)

Revision ID: 20261204_routes_submitters
Revises: 20261204_routes_audit_append
Create Date: 2026-12-04 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_routes_submitters"
down_revision: str | None = "20261204_routes_audit_append"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "auth_application_submitters",
        sa.Column("application_ref", sa.String(48), primary_key=True),
        sa.Column("user_id", BigId, sa.ForeignKey("auth_users.id"), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("auth_application_submitters")
