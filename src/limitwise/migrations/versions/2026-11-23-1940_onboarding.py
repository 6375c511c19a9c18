"""onboarding: applications, checks, consents, invitations, provider responses

Revision ID: 20261123_onboarding
Revises: 20261123_ledger
Create Date: 2026-11-23 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_onboarding"
down_revision: str | None = "20261123_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("application_ref", sa.String(48), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("business_date", sa.Date, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("person_index", sa.String(64), nullable=False),
        sa.Column("mobile_index", sa.String(64), nullable=False),
        sa.Column("card_index", sa.String(64), nullable=False),
        sa.Column("pii_token", sa.Text, nullable=False),
        sa.Column("pii_key_id", sa.String(32), nullable=False),
        sa.Column("masked_resident_id", sa.String(32), nullable=False),
        sa.Column("age_years", sa.Integer, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("declared_monthly_income_fen", sa.BigInteger, nullable=False),
        sa.Column("inputs_json", sa.Text, nullable=False),
        sa.Column("outcome_json", sa.Text, nullable=False),
        sa.Column("duplicate_of_ref", sa.String(48)),
        sa.UniqueConstraint("application_ref", name="uq_applications_application_ref"),
    )
    for column in ("person_index", "mobile_index", "card_index", "pii_key_id"):
        op.create_index(f"ix_applications_{column}", "applications", [column])
    op.create_table(
        "application_checks",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "application_id",
            BigId,
            sa.ForeignKey(
                "applications.id", name="fk_application_checks_application_id_applications"
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(48), nullable=False),
        sa.Column("passed", sa.Boolean),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("detail", sa.String(300), nullable=False),
    )
    op.create_index(
        "ix_application_checks_application_id", "application_checks", ["application_id"]
    )
    op.create_table(
        "consents",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("consent_ref", sa.String(48), nullable=False),
        sa.Column(
            "application_id",
            BigId,
            sa.ForeignKey("applications.id", name="fk_consents_application_id_applications"),
            nullable=False,
        ),
        sa.Column("person_index", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("text_version", sa.String(32), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("consent_ref", name="uq_consents_consent_ref"),
    )
    op.create_index("ix_consents_application_id", "consents", ["application_id"])
    op.create_index("ix_consents_person_index", "consents", ["person_index"])
    op.create_table(
        "invitations",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_index", sa.String(64), nullable=False),
        sa.Column("masked_resident_id", sa.String(32), nullable=False),
        sa.Column("campaign", sa.String(64), nullable=False),
        sa.Column("valid_until", sa.Date),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("person_index", name="uq_invitations_person_index"),
    )
    op.create_table(
        "provider_responses",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("application_ref", sa.String(48)),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(80), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data_as_of", sa.Date),
        sa.Column("quality", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(300)),
        sa.Column("facts_json", sa.Text),
    )
    op.create_index(
        "ix_provider_responses_application_ref", "provider_responses", ["application_ref"]
    )


def downgrade() -> None:
    for table in (
        "provider_responses",
        "invitations",
        "consents",
        "application_checks",
        "applications",
    ):
        op.drop_table(table)
