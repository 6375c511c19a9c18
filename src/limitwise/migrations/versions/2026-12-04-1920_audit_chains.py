"""audit: the log spread over several hash chains, each with its own head, so concurrent
changes never queue behind one head row; the one chain so far becomes chain 1

Revision ID: 20261204_api_audit_chains
Revises: 20261203_cob_partitions_cob
Create Date: 2026-12-04 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261204_api_audit_chains"
down_revision: str | None = "20261203_cob_partitions_cob"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As ``limitwise.audit.models.CHAINS`` when this revision was written.
CHAINS = 32
GENESIS_HASH = "0" * 64


def upgrade() -> None:
    # On SQLite the batch copies the table: run it before any trigger is put on it.
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("chain", sa.SmallInteger, nullable=False, server_default="1"))
        batch.drop_constraint("uq_audit_records_seq", type_="unique")
        batch.create_unique_constraint("uq_audit_records_chain_seq", ["chain", "seq"])
    with op.batch_alter_table("audit_records") as batch:
        batch.alter_column("chain", server_default=None)
    heads = op.create_table(
        "audit_heads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint(f"id BETWEEN 1 AND {CHAINS}", name="chain_number"),
    )
    connection = op.get_bind()
    old = connection.execute(sa.text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
    first = (old[0], old[1]) if old is not None else (0, GENESIS_HASH)
    op.bulk_insert(
        heads,
        [{"id": 1, "seq": first[0], "hash": first[1]}]
        + [{"id": n, "seq": 0, "hash": GENESIS_HASH} for n in range(2, CHAINS + 1)],
    )
    op.drop_table("audit_head")


def downgrade() -> None:
    connection = op.get_bind()
    others = connection.execute(sa.text("SELECT count(*) FROM audit_records WHERE chain <> 1"))
    if others.scalar_one():
        raise RuntimeError("records in chains other than 1 cannot go back to one chain")
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_one_row"),
    )
    first = connection.execute(sa.text("SELECT seq, hash FROM audit_heads WHERE id = 1")).one()
    if first[0]:
        op.bulk_insert(head, [{"id": 1, "seq": first[0], "hash": first[1]}])
    op.drop_table("audit_heads")
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_constraint("uq_audit_records_chain_seq", type_="unique")
        batch.create_unique_constraint("uq_audit_records_seq", ["seq"])
        batch.drop_column("chain")
