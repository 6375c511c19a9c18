"""Edit the audit log as its table's owner could: with the append-only triggers out of the
way (disabled on PostgreSQL, dropped on SQLite, which cannot disable one)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text


def sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


@contextmanager
def append_only_lifted(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        sql(engine, "ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only")
        yield
        sql(engine, "ALTER TABLE audit_records ENABLE TRIGGER audit_records_append_only")
        return
    sql(engine, "DROP TRIGGER audit_records_no_update", "DROP TRIGGER audit_records_no_delete")
    yield


def tamper(engine: Engine, *statements: str) -> None:
    with append_only_lifted(engine):
        sql(engine, *statements)
