"""Compare the migrated schema with the models, restricted to the tables a migration owns."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import limitwise.models  # noqa: F401  (registers every table)
from limitwise.kit.db import Base


def _table_of(diff: Any, tables: set[str]) -> str | None:
    """Diffs name their table as a string or carry a Table, Column or Index; modify diffs
    come wrapped in a list."""
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        if isinstance(part, str) and part in tables:
            return part
        table = getattr(part, "table", part)
        if getattr(table, "name", None) in tables:
            return str(table.name)
    return None


def schema_diffs(engine: Engine, tables: set[str]) -> list[Any]:
    """Every difference between the database and the models that touches ``tables``."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    return [d for d in diffs if _table_of(d, tables) in tables]
