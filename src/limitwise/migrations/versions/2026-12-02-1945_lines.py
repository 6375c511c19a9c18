"""lines: the append-only decision log, line holders, sub-lines, scheduled changes, the
trigger queue, and the decision behind every credit account's line

Revision ID: 20261202_lines
Revises: 20261123_policy
Create Date: 2026-12-02 19:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_lines"
down_revision: str | None = "20261123_policy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MESSAGE = "line_decisions is append-only: record a new decision instead"

PG_APPEND_ONLY_FUNCTION = f"""
CREATE FUNCTION line_decisions_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
END $$ LANGUAGE plpgsql
"""


def _fk(column: str, target: str, table: str, *, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    name = f"fk_{table}_{column}_{target.split('.')[0]}"
    return sa.Column(column, BigId, sa.ForeignKey(target, name=name), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "line_decisions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("decision_ref", sa.String(48), nullable=False, unique=True),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("trigger_ref", sa.String(128), nullable=False),
        sa.Column("account_ref", sa.String(64)),
        sa.Column("application_ref", sa.String(48)),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("policy_key", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.String(32), nullable=False),
        sa.Column("policy_hash", sa.String(64), nullable=False),
        sa.Column("scorecards_json", sa.Text, nullable=False),
        sa.Column("features_json", sa.Text, nullable=False),
        sa.Column("missing_json", sa.Text, nullable=False),
        sa.Column("trace_json", sa.Text, nullable=False),
        sa.Column("proposed_action", sa.String(16), nullable=False),
        sa.Column("proposed_line_fen", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("old_line_fen", sa.BigInteger, nullable=False),
        sa.Column("new_line_fen", sa.BigInteger, nullable=False),
        sa.Column("old_status", sa.String(16), nullable=False),
        sa.Column("new_status", sa.String(16), nullable=False),
        sa.Column("timing", sa.String(16), nullable=False),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("reasons_json", sa.Text, nullable=False),
        sa.Column("notice", sa.String(32)),
        sa.Column("sub_lines_json", sa.Text, nullable=False),
        sa.Column("adjustments_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_line_decisions_account_ref_id", "line_decisions", ["account_ref", "id"])
    op.create_index("ix_line_decisions_application_ref", "line_decisions", ["application_ref"])
    op.create_table(
        "line_holders",
        sa.Column(
            "credit_account_id",
            BigId,
            sa.ForeignKey(
                "credit_accounts.id", name="fk_line_holders_credit_account_id_credit_accounts"
            ),
            primary_key=True,
        ),
        sa.Column("account_ref", sa.String(64), nullable=False, unique=True),
        sa.Column("person_index", sa.String(64), nullable=False),
        sa.Column("application_ref", sa.String(48), nullable=False),
        sa.Column("verified_income_monthly_fen", sa.BigInteger),
    )
    op.create_index("ix_line_holders_person_index", "line_holders", ["person_index"])
    op.create_table(
        "line_sub_lines",
        sa.Column(
            "credit_account_id",
            BigId,
            sa.ForeignKey(
                "credit_accounts.id", name="fk_line_sub_lines_credit_account_id_credit_accounts"
            ),
            primary_key=True,
        ),
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("line_fen", sa.BigInteger, nullable=False),
        _fk("decision_id", "line_decisions.id", "line_sub_lines"),
    )
    op.create_table(
        "line_pending_changes",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _fk("credit_account_id", "credit_accounts.id", "line_pending_changes"),
        _fk("decision_id", "line_decisions.id", "line_pending_changes"),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("line_fen", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column(
            "settled_by_decision_id",
            BigId,
            sa.ForeignKey(
                "line_decisions.id", name="fk_line_pending_changes_settled_by_line_decisions"
            ),
        ),
    )
    op.create_index(
        "ix_line_pending_changes_credit_account_id", "line_pending_changes", ["credit_account_id"]
    )
    op.create_index(
        "ix_line_pending_changes_state_effective", "line_pending_changes", ["state", "effective_on"]
    )
    op.create_table(
        "line_event_reviews",
        sa.Column(
            "event_id",
            BigId,
            sa.ForeignKey(
                "account_events.id", name="fk_line_event_reviews_event_id_account_events"
            ),
            primary_key=True,
        ),
        _fk("decision_id", "line_decisions.id", "line_event_reviews"),
    )
    _add_account_decision_column()
    _append_only()


def _add_account_decision_column() -> None:
    """SQLite adds a nullable column with its reference in place (a batch rebuild would
    drop and copy ``credit_accounts``, which every servicing table references)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE credit_accounts ADD COLUMN line_decision_id INTEGER "
            "CONSTRAINT fk_credit_accounts_line_decision_id_line_decisions "
            "REFERENCES line_decisions (id)"
        )
        return
    op.add_column("credit_accounts", sa.Column("line_decision_id", BigId))
    op.create_foreign_key(
        "fk_credit_accounts_line_decision_id_line_decisions",
        "credit_accounts",
        "line_decisions",
        ["line_decision_id"],
        ["id"],
    )


def _append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY_FUNCTION)
        op.execute(
            "CREATE TRIGGER line_decisions_append_only BEFORE UPDATE OR DELETE ON line_decisions "
            "FOR EACH ROW EXECUTE FUNCTION line_decisions_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER line_decisions_no_{event.lower()} BEFORE {event} ON line_decisions "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS line_decisions_append_only ON line_decisions")
        op.execute("DROP FUNCTION IF EXISTS line_decisions_append_only()")
        op.drop_constraint(
            "fk_credit_accounts_line_decision_id_line_decisions",
            "credit_accounts",
            type_="foreignkey",
        )
    op.drop_column("credit_accounts", "line_decision_id")
    for table in ("line_event_reviews", "line_pending_changes", "line_sub_lines", "line_holders"):
        op.drop_table(table)
    op.drop_table("line_decisions")
