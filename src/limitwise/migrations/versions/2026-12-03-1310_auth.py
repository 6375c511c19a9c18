"""auth and audit: users, the accounts a borrower holds, API keys, refresh tokens, and the
hash-chained audit records with the head of their chain

Revision ID: 20261203_auth
Revises: 20261203_features_macro_facts
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_auth"
down_revision: str | None = "20261203_features_macro_facts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "auth_users",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", Stamp),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_table(
        "auth_account_holders",
        sa.Column("user_id", BigId, sa.ForeignKey("auth_users.id"), primary_key=True),
        sa.Column("account_ref", sa.String(64), primary_key=True),
    )
    op.create_table(
        "auth_api_keys",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("secret_digest", sa.String(64), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("revoked_at", Stamp),
    )
    op.create_table(
        "auth_refresh_tokens",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", BigId, sa.ForeignKey("auth_users.id"), nullable=False, index=True),
        sa.Column("expires_at", Stamp, nullable=False),
        sa.Column("used_at", Stamp),
    )
    op.create_table(
        "audit_records",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
        sa.Column("recorded_at", Stamp, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("before_digest", sa.String(64), nullable=False),
        sa.Column("after_digest", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_one_row"),
    )


def downgrade() -> None:
    for table in (
        "audit_head",
        "audit_records",
        "auth_refresh_tokens",
        "auth_api_keys",
        "auth_account_holders",
        "auth_users",
    ):
        op.drop_table(table)
