from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect

from limitwise.kit import migrate
from limitwise.kit.db import make_engine
from limitwise.models import policy_models


def test_policy_migration_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    inspector = inspect(engine)
    for table in (policy_models.PolicyVersion.__table__, policy_models.PolicyActivation.__table__):
        assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.columns.keys())
    command.downgrade(migrate.alembic_config(url), "20261123_ledger")
    assert not {"policy_versions", "policy_activations"} & set(inspect(engine).get_table_names())
    engine.dispose()
