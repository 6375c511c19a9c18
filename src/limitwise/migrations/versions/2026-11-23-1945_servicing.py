"""servicing: products, credit accounts, draws, instalments, repayments, allocations,
servicing postings, account events

Revision ID: 20261123_servicing
Revises: 20261123_onboarding
Create Date: 2026-11-23 19:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_servicing"
down_revision: str | None = "20261123_onboarding"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(column: str, target: str, table: str, *, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    """A foreign-key column named the way ``kit.db.NAMING_CONVENTION`` names it."""
    referred = target.split(".")[0]
    return sa.Column(
        column,
        BigId,
        sa.ForeignKey(target, name=f"fk_{table}_{column}_{referred}"),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "servicing_products",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("definition_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("code", name="uq_servicing_products_code"),
    )
    op.create_table(
        "credit_accounts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(64), nullable=False),
        _fk("product_id", "servicing_products.id", "credit_accounts"),
        sa.Column("line_fen", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("cob_through", sa.Date),
        sa.Column("days_past_due", sa.Integer, nullable=False),
        sa.Column("bucket", sa.String(16), nullable=False),
        sa.Column("next_seq", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("line_fen >= 0", name="ck_credit_accounts_line_non_negative"),
        sa.UniqueConstraint("ref", name="uq_credit_accounts_ref"),
    )
    op.create_table(
        "draws",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(48), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        _fk("credit_account_id", "credit_accounts.id", "draws"),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("repayment_type", sa.String(24), nullable=False),
        sa.Column("term_months", sa.Integer, nullable=False),
        sa.Column("drawn_on", sa.Date, nullable=False),
        sa.Column("daily_rate_bps", sa.String(24), nullable=False),
        sa.Column("penalty_rate_bps", sa.String(24), nullable=False),
        sa.Column("early_repayment_fee_bps", sa.String(24), nullable=False),
        sa.Column("apr", sa.String(24), nullable=False),
        sa.Column("principal_outstanding_fen", sa.BigInteger, nullable=False),
        sa.Column("accrual_remainder_nfen", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("disbursement_entry_ref", sa.String(48), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name="ck_draws_amount_positive"),
        sa.CheckConstraint(
            "principal_outstanding_fen >= 0", name="ck_draws_principal_non_negative"
        ),
        sa.UniqueConstraint("ref", name="uq_draws_ref"),
        sa.UniqueConstraint("idempotency_key", name="uq_draws_idempotency_key"),
    )
    op.create_index("ix_draws_credit_account_id", "draws", ["credit_account_id"])
    op.create_table(
        "instalments",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _fk("draw_id", "draws.id", "instalments"),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        *(
            sa.Column(name, sa.BigInteger, nullable=False)
            for name in (
                "principal_due_fen",
                "interest_scheduled_fen",
                "interest_accrued_fen",
                "penalty_accrued_fen",
                "penalty_remainder_nfen",
                "fee_charged_fen",
                "principal_paid_fen",
                "interest_paid_fen",
                "penalty_paid_fen",
                "fee_paid_fen",
            )
        ),
        sa.UniqueConstraint("draw_id", "seq", name="uq_instalments_draw_id_seq"),
    )
    op.create_index("ix_instalments_draw_id", "instalments", ["draw_id"])
    op.create_table(
        "repayments",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(48), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        _fk("credit_account_id", "credit_accounts.id", "repayments"),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.CheckConstraint("amount_fen > 0", name="ck_repayments_amount_positive"),
        sa.UniqueConstraint("ref", name="uq_repayments_ref"),
        sa.UniqueConstraint("idempotency_key", name="uq_repayments_idempotency_key"),
    )
    op.create_index("ix_repayments_credit_account_id", "repayments", ["credit_account_id"])
    op.create_table(
        "allocations",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _fk("credit_account_id", "credit_accounts.id", "allocations"),
        _fk("repayment_id", "repayments.id", "allocations", nullable=True),
        _fk("instalment_id", "instalments.id", "allocations", nullable=True),
        sa.Column("timing", sa.String(16), nullable=False),
        sa.Column("component", sa.String(16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("superseded", sa.Boolean, nullable=False),
        sa.CheckConstraint("amount_fen > 0", name="ck_allocations_amount_positive"),
    )
    op.create_index("ix_allocations_credit_account_id", "allocations", ["credit_account_id"])
    op.create_index("ix_allocations_repayment_id", "allocations", ["repayment_id"])
    op.create_table(
        "servicing_postings",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _fk("credit_account_id", "credit_accounts.id", "servicing_postings"),
        sa.Column("entry_ref", sa.String(48), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("reversed", sa.Boolean, nullable=False),
        sa.UniqueConstraint("entry_ref", name="uq_servicing_postings_entry_ref"),
    )
    op.create_index(
        "ix_servicing_postings_account_live",
        "servicing_postings",
        ["credit_account_id", "reversed"],
    )
    op.create_table(
        "account_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _fk("credit_account_id", "credit_accounts.id", "account_events"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_account_events_credit_account_id", "account_events", ["credit_account_id"])


def downgrade() -> None:
    for table in (
        "account_events",
        "servicing_postings",
        "allocations",
        "repayments",
        "instalments",
        "draws",
        "credit_accounts",
        "servicing_products",
    ):
        op.drop_table(table)
