"""The onboarding migration creates exactly the tables the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import limitwise.models  # noqa: F401  (registers every table)
from limitwise.kit.db import Base

TABLES = {"applications", "application_checks", "consents", "invitations", "provider_responses"}


def test_migration_matches_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)

    def table_of(diff) -> str | None:
        """Diffs name their table as a string or carry a Table, Column or Index."""
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:]:
            if isinstance(part, str) and part in TABLES:
                return part
            table = getattr(part, "table", part)
            if getattr(table, "name", None) in TABLES:
                return table.name
        return None

    ours = [d for d in diffs if table_of(d) in TABLES]
    assert ours == []
