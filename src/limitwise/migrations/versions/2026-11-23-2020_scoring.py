"""scoring: scorecard registry (versions and the publication log)

Revision ID: 20261123_scoring
Revises: 20261123_servicing
Create Date: 2026-11-23 19:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_scoring"
down_revision: str | None = "20261123_servicing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "score_models",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(120), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=False),
        sa.Column("artifact_json", sa.Text, nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("version", name="uq_score_models_version"),
    )
    op.create_table(
        "score_model_publications",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column(
            "model_id",
            BigId,
            sa.ForeignKey(
                "score_models.id", name="fk_score_model_publications_model_id_score_models"
            ),
            nullable=False,
        ),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_score_model_publications_purpose_id", "score_model_publications", ["purpose", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_score_model_publications_purpose_id", "score_model_publications")
    op.drop_table("score_model_publications")
    op.drop_table("score_models")
