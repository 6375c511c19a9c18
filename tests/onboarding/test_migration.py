"""The onboarding migration creates exactly the tables the models describe."""

from tests.schema import schema_diffs

TABLES = {"applications", "application_checks", "consents", "invitations", "provider_responses"}


def test_migration_matches_models(engine):
    assert schema_diffs(engine, TABLES) == []
