"""ledger: accounts, append-only journal, holds, idempotency keys

Revision ID: 20261123_ledger
Revises:
Create Date: 2026-11-23 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261123_ledger"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

APPEND_ONLY_TABLES = ("journal_entries", "journal_legs")

PG_BALANCE_FUNCTION = """
CREATE FUNCTION journal_entry_must_balance() RETURNS trigger AS $$
DECLARE total bigint;
BEGIN
    SELECT COALESCE(SUM(amount_fen), 0) INTO total FROM journal_legs WHERE entry_id = NEW.entry_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: legs sum to % fen', NEW.entry_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql
"""

PG_APPEND_ONLY_FUNCTION = """
CREATE FUNCTION ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: post a reversing entry instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("owner_ref", sa.String(64)),
        sa.Column("balance_fen", sa.BigInteger, nullable=False),
        sa.Column("pending_debit_fen", sa.BigInteger, nullable=False),
        sa.Column("debit_limit_fen", sa.BigInteger),
        sa.Column("strict_normal_balance", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "pending_debit_fen >= 0", name="ck_ledger_accounts_pending_non_negative"
        ),
        sa.CheckConstraint(
            "debit_limit_fen IS NULL OR debit_limit_fen >= 0",
            name="ck_ledger_accounts_limit_non_negative",
        ),
        sa.UniqueConstraint("code", name="uq_ledger_accounts_code"),
    )
    op.create_index("ix_ledger_accounts_owner_ref", "ledger_accounts", ["owner_ref"])
    op.create_table(
        "journal_entries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("entry_ref", sa.String(48), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column(
            "reverses_entry_id",
            BigId,
            sa.ForeignKey(
                "journal_entries.id", name="fk_journal_entries_reverses_entry_id_journal_entries"
            ),
        ),
        sa.UniqueConstraint("entry_ref", name="uq_journal_entries_entry_ref"),
        sa.UniqueConstraint("reverses_entry_id", name="uq_journal_entries_reverses_entry_id"),
    )
    op.create_index("ix_journal_entries_effective_date", "journal_entries", ["effective_date"])
    op.create_table(
        "journal_legs",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "entry_id",
            BigId,
            sa.ForeignKey("journal_entries.id", name="fk_journal_legs_entry_id_journal_entries"),
            nullable=False,
        ),
        sa.Column(
            "account_id",
            BigId,
            sa.ForeignKey("ledger_accounts.id", name="fk_journal_legs_account_id_ledger_accounts"),
            nullable=False,
        ),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("balance_after_fen", sa.BigInteger, nullable=False),
        sa.CheckConstraint("amount_fen <> 0", name="ck_journal_legs_amount_non_zero"),
    )
    op.create_index("ix_journal_legs_entry_id", "journal_legs", ["entry_id"])
    op.create_index("ix_journal_legs_account_id_id", "journal_legs", ["account_id", "id"])
    op.create_table(
        "ledger_holds",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("hold_ref", sa.String(48), nullable=False),
        sa.Column(
            "debit_account_id",
            BigId,
            sa.ForeignKey(
                "ledger_accounts.id", name="fk_ledger_holds_debit_account_id_ledger_accounts"
            ),
            nullable=False,
        ),
        sa.Column(
            "credit_account_id",
            BigId,
            sa.ForeignKey(
                "ledger_accounts.id", name="fk_ledger_holds_credit_account_id_ledger_accounts"
            ),
            nullable=False,
        ),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column(
            "entry_id",
            BigId,
            sa.ForeignKey("journal_entries.id", name="fk_ledger_holds_entry_id_journal_entries"),
        ),
        sa.CheckConstraint("amount_fen > 0", name="ck_ledger_holds_amount_positive"),
        sa.UniqueConstraint("hold_ref", name="uq_ledger_holds_hold_ref"),
        sa.UniqueConstraint("entry_id", name="uq_ledger_holds_entry_id"),
    )
    op.create_index("ix_ledger_holds_debit_account_id", "ledger_holds", ["debit_account_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("command", sa.String(48), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("result_json", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_guards()
    else:
        _sqlite_guards()


def _postgres_guards() -> None:
    """Balance enforced at commit by a deferred constraint trigger; history is append-only."""
    op.execute(PG_BALANCE_FUNCTION)
    op.execute(
        "CREATE CONSTRAINT TRIGGER journal_entry_balanced AFTER INSERT ON journal_legs "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_must_balance()"
    )
    op.execute(PG_APPEND_ONLY_FUNCTION)
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
        )


def _sqlite_guards() -> None:
    for table in APPEND_ONLY_TABLES:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: post a reversing entry "
                "instead'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP TRIGGER IF EXISTS journal_entry_balanced ON journal_legs")
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")
        op.execute("DROP FUNCTION IF EXISTS journal_entry_must_balance()")
    for table in (
        "idempotency_keys",
        "ledger_holds",
        "journal_legs",
        "journal_entries",
        "ledger_accounts",
    ):
        op.drop_table(table)
