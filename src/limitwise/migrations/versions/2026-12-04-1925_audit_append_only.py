"""audit: the records of the chain are append-only in the database

UPDATE and DELETE on ``audit_records`` are refused by triggers (a plpgsql function on
PostgreSQL, ``RAISE(ABORT)`` on SQLite); the head row stays updatable. The chain still
detects a change made by someone who can drop the triggers (the table's owner): the
triggers stop mistakes and casual edits, the hashes prove the rest.

Revision ID: 20261204_routes_audit_append
Revises: 20261204_api_audit_chains
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261204_routes_audit_append"
down_revision: str | None = "20261204_api_audit_chains"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "audit_records is append-only: a record is never edited or deleted"
EVENTS = ("UPDATE", "DELETE")

PG_APPEND_ONLY_FUNCTION = f"""
CREATE FUNCTION audit_records_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
END $$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records "
            "FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()"
        )
        return
    for event in EVENTS:
        op.execute(
            f"CREATE TRIGGER audit_records_no_{event.lower()} BEFORE {event} ON audit_records "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_records_append_only ON audit_records")
        op.execute("DROP FUNCTION IF EXISTS audit_records_append_only()")
        return
    for event in EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS audit_records_no_{event.lower()}")
