"""ledger: journal entries keep only the indexes a query or a rule needs (close of business
writes an entry per accruing account and day), and a credit account's ledger accounts are
found by owner and purpose in one index probe

``ix_journal_entries_effective_date`` is read by no query: dropped. On PostgreSQL the
uniqueness of ``reverses_entry_id`` (an entry is reversed at most once) moves to a partial
unique index over the reversing entries only, so the other entries — nearly all of them,
NULL there — add nothing to it. The rule is the same (NULLs never conflicted); SQLite keeps
its table constraint, which only a table rebuild could change.

``ix_ledger_accounts_owner_ref`` becomes ``(owner_ref, purpose)``: close of business looks
up each account's interest, penalty and credit-balance account by both, which read all five
of the owner's rows through the old index; queries by owner alone use its prefix. Neither
column is ever updated, so balance updates stay heap-only.

Close of business updates every row of ``credit_accounts``, ``draws``, ``instalments`` and
(for the accounts that accrue) ``ledger_accounts`` once a day, within one transaction per
partition, so the old version of a row cannot be pruned before the new one is written: a
heap-only (HOT) update needs room for a second version of every row on its page. The 20%
free space left by ``20261203_cob_partitions_cob`` let only about one update in four stay
heap-only (measured: 2,506 of 9,999 on ``credit_accounts``); the rest inserted into every
index of the table. Half of each page is left free now. Pages already written keep their
old fill until the table is rewritten (``VACUUM FULL`` or ``pg_repack``, once).

Revision ID: 20261204_cob_ledger_indexes
Revises: 20261204_routes_submitters
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261204_cob_ledger_indexes"
down_revision: str | None = "20261204_routes_submitters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REVERSES = "uq_journal_entries_reverses_entry_id"
OWNER = "ix_ledger_accounts_owner_ref"
OWNER_PURPOSE = "ix_ledger_accounts_owner_ref_purpose"
#: Tables close of business updates daily, with room for a second version of each row.
HOT_TABLES = ("credit_accounts", "draws", "instalments", "ledger_accounts")
HOT_FILLFACTOR, OLD_FILLFACTOR = 50, 80


def upgrade() -> None:
    op.create_index(OWNER_PURPOSE, "ledger_accounts", ["owner_ref", "purpose"])
    op.drop_index(OWNER, table_name="ledger_accounts")
    op.drop_index("ix_journal_entries_effective_date", table_name="journal_entries")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(REVERSES, "journal_entries", type_="unique")
        op.create_index(
            REVERSES,
            "journal_entries",
            ["reverses_entry_id"],
            unique=True,
            postgresql_where="reverses_entry_id IS NOT NULL",
        )
        for table in HOT_TABLES:
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {HOT_FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in HOT_TABLES:
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {OLD_FILLFACTOR})")
        op.drop_index(REVERSES, table_name="journal_entries")
        op.create_unique_constraint(REVERSES, "journal_entries", ["reverses_entry_id"])
    op.create_index("ix_journal_entries_effective_date", "journal_entries", ["effective_date"])
    op.create_index(OWNER, "ledger_accounts", ["owner_ref"])
    op.drop_index(OWNER_PURPOSE, table_name="ledger_accounts")
