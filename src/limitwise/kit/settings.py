"""Settings: one pydantic-settings class, environment prefix ``LIMITWISE_``."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///limitwise.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIMITWISE_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    #: Echo SQL statements (debugging only).
    sql_echo: bool = False


def get_settings() -> Settings:
    return Settings()
