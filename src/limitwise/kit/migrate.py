"""Run the packaged Alembic migrations against any database URL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from limitwise.kit.db import make_engine, normalise_url, resolve_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "file_template",
        "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s",
    )
    config.set_main_option("sqlalchemy.url", normalise_url(resolve_url(url)).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "heads") -> None:
    """Migrate the database at ``url`` to ``revision`` (default: every head)."""
    command.upgrade(alembic_config(url), revision)


def current_revisions(url: str | None = None) -> tuple[set[str], set[str]]:
    """(revisions the database is at, head revisions the package ships)."""
    engine = make_engine(url)
    try:
        current = engine_revisions(engine)
    finally:
        engine.dispose()
    return current, shipped_heads()


def engine_revisions(engine: Engine) -> set[str]:
    """The revisions the database behind ``engine`` is at."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def shipped_heads() -> set[str]:
    """The head revisions this package ships (what ``db upgrade`` migrates to)."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def upgrade_engine(engine: Engine, revision: str = "heads") -> None:
    """Migrate through an existing engine, e.g. an in-memory SQLite database that only
    lives as long as its engine."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
