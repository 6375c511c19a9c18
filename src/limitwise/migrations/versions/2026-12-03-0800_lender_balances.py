"""ledger: lender-wide accounts keep no stored or running balance (no hot row to lock)

Their balance is the sum of their legs; new legs on them carry a NULL running balance and
their ``balance_fen`` stays 0. Earlier legs keep the running balances they were written with.

Revision ID: 20261203_lender_balances
Revises: 20261202_lines
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_lender_balances"
down_revision: str | None = "20261202_lines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LENDER_BALANCES_FROM_LEGS = (
    "UPDATE ledger_accounts SET balance_fen = (SELECT COALESCE(SUM(amount_fen), 0) "
    "FROM journal_legs WHERE journal_legs.account_id = ledger_accounts.id) "
    "WHERE owner_ref IS NULL"
)


def _sqlite_append_only_guards() -> None:
    """A batch rebuild of ``journal_legs`` on SQLite drops its triggers: put them back."""
    for event in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS journal_legs_no_{event.lower()}")
        op.execute(
            f"CREATE TRIGGER journal_legs_no_{event.lower()} BEFORE {event} ON journal_legs "
            "BEGIN SELECT RAISE(ABORT, 'journal_legs is append-only: post a reversing entry "
            "instead'); END"
        )


def _set_nullable(nullable: bool) -> None:
    with op.batch_alter_table("journal_legs") as batch:
        batch.alter_column("balance_after_fen", existing_type=sa.BigInteger, nullable=nullable)
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_append_only_guards()


def upgrade() -> None:
    _set_nullable(True)
    op.execute("UPDATE ledger_accounts SET balance_fen = 0 WHERE owner_ref IS NULL")


def downgrade() -> None:
    op.execute(LENDER_BALANCES_FROM_LEGS)
    # legs are append-only: running balances written as NULL cannot be filled in, so the
    # column stays nullable if any exist
    has_null = op.get_bind().execute(
        sa.text("SELECT 1 FROM journal_legs WHERE balance_after_fen IS NULL LIMIT 1")
    )
    if has_null.first() is None:
        _set_nullable(False)
