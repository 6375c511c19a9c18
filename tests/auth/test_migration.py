"""The auth and audit migration: its tables match the models, and it downgrades cleanly."""

from alembic import command
from sqlalchemy import inspect

from limitwise.kit import migrate
from tests.schema import schema_diffs

TABLES = {
    "auth_users",
    "auth_account_holders",
    "auth_api_keys",
    "auth_refresh_tokens",
    "auth_application_submitters",
    "audit_records",
    "audit_heads",
}


def test_migration_matches_models(engine):
    assert schema_diffs(engine, TABLES) == []


def test_downgrade_removes_the_tables_and_upgrade_restores_them(engine, db_url):
    command.downgrade(migrate.alembic_config(db_url), "20261203_features_macro_facts")
    assert TABLES.isdisjoint(inspect(engine).get_table_names())
    migrate.upgrade(db_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
