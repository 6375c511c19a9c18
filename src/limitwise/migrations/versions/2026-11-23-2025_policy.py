"""policy: immutable policy versions and activation history

Revision ID: 20261123_policy
Revises: 20261123_scoring
Create Date: 2026-11-23 19:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_policy"
down_revision: str | None = "20261123_scoring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IMMUTABLE_TABLES = ("policy_versions", "policy_activations")

PG_IMMUTABLE_FUNCTION = """
CREATE FUNCTION policy_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is immutable: publish a new version or activate another one', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("policy_key", sa.String(64), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("source_yaml", sa.Text, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("policy_key", "version", name="uq_policy_versions_key_version"),
    )
    op.create_index("ix_policy_versions_content_hash", "policy_versions", ["content_hash"])
    op.create_table(
        "policy_activations",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("policy_key", sa.String(64), nullable=False),
        sa.Column(
            "version_id",
            BigId,
            sa.ForeignKey("policy_versions.id", name="fk_policy_activations_version_id"),
            nullable=False,
        ),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
    )
    op.create_index(
        "ix_policy_activations_policy_key_id", "policy_activations", ["policy_key", "id"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_IMMUTABLE_FUNCTION)
        for table in IMMUTABLE_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION policy_immutable()"
            )
    else:
        for table in IMMUTABLE_TABLES:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is immutable: publish a new version "
                    "or activate another one'); END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in IMMUTABLE_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        op.execute("DROP FUNCTION IF EXISTS policy_immutable()")
    op.drop_table("policy_activations")
    op.drop_table("policy_versions")
