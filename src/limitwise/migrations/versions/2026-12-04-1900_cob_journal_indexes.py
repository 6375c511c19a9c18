"""ledger: journal entries keep only the indexes a query or a rule needs (close of business
writes an entry per accruing account and day)

``ix_journal_entries_effective_date`` is read by no query: dropped. On PostgreSQL the
uniqueness of ``reverses_entry_id`` (an entry is reversed at most once) moves to a partial
unique index over the reversing entries only, so the other entries — nearly all of them,
NULL there — add nothing to it. The rule is the same (NULLs never conflicted); SQLite keeps
its table constraint, which only a table rebuild could change.

Revision ID: 20261204_cob_journal_indexes
Revises: 20261203_cob_partitions_cob
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261204_cob_journal_indexes"
down_revision: str | None = "20261203_cob_partitions_cob"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REVERSES = "uq_journal_entries_reverses_entry_id"


def upgrade() -> None:
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


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(REVERSES, table_name="journal_entries")
        op.create_unique_constraint(REVERSES, "journal_entries", ["reverses_entry_id"])
    op.create_index("ix_journal_entries_effective_date", "journal_entries", ["effective_date"])
