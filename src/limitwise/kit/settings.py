"""Settings: one pydantic-settings class, environment prefix ``LIMITWISE_``."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from limitwise.kit.errors import LimitwiseError

DEFAULT_DATABASE_URL = "sqlite:///limitwise.db"

#: DEV-ONLY keys so the demo and ``limitwise apply`` work on a fresh machine. They are public
#: (they are in the source code): production MUST set LIMITWISE_PII_KEYS and
#: LIMITWISE_BLIND_INDEX_KEY to secrets of its own (see docs/onboarding.md).
DEV_ONLY_PII_KEYS = "dev1:ZGV2LW9ubHktcGlpLWtleS1ub3QtZm9yLXByb2QhISE="
DEV_ONLY_BLIND_INDEX_KEY = "ZGV2LW9ubHktYmxpbmQtaW5kZXgta2V5LW5vdC1mb3ItcHJvZA=="
#: DEV-ONLY secret signing the API's access tokens; the server refuses it outside dev mode.
DEV_ONLY_JWT_SECRET = "dev-only-jwt-secret-published-in-the-source-not-for-prod"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIMITWISE_", extra="ignore")

    #: ``dev`` allows the published development keys above; anything else (the default)
    #: refuses to serve or store personal data with them.
    env: str = ""

    database_url: str = DEFAULT_DATABASE_URL
    #: Echo SQL statements (debugging only).
    sql_echo: bool = False
    #: PostgreSQL connections each process keeps open (each ``serve`` worker has its own
    #: pool), and how many more it may open for a burst and close after it.
    db_pool_size: int = 16
    db_max_overflow: int = 16
    #: PII encryption keys as ``id:base64(32 bytes)`` separated by commas; the first encrypts,
    #: all decrypt (rotation: put the new key first, run ``limitwise onboarding rotate-keys``).
    pii_keys: str = DEV_ONLY_PII_KEYS
    #: base64 HMAC key for the blind index used to find and de-duplicate PII without decrypting.
    blind_index_key: str = DEV_ONLY_BLIND_INDEX_KEY
    #: The lender's time zone (IANA name): a day may be closed only once it has ended on the
    #: wall clock here, and a new book's business date is today here. Never UTC by default.
    business_time_zone: str = "Asia/Shanghai"
    #: Same person applying again within this many days is a duplicate application.
    application_duplicate_window_days: int = 30
    #: Eligibility policy JSON file; empty means the packaged default (legal age 18, ...).
    eligibility_policy_path: str = ""
    #: Line service rules JSON file (caps, notice, guards); empty means the defaults.
    line_rules_path: str = ""
    #: The policy key that decides applications and reviews (its active published version).
    line_policy_key: str = "jiebei-default"
    #: ``local`` (CSV/JSON files in ``provider_data_dir``) or ``http`` (``provider_base_url``).
    provider_backend: str = "local"
    #: Folder of the local providers' files; empty means the packaged sample data.
    provider_data_dir: str = ""
    provider_base_url: str = "http://127.0.0.1:8700"
    provider_timeout_seconds: float = 5.0
    #: Sent as ``Authorization: Bearer <key>`` to the HTTP providers when set.
    provider_api_key: str = ""
    #: Host names the API answers to, comma-separated (``*``: any; DNS rebinding guard).
    allowed_hosts: str = "localhost,127.0.0.1,::1,testserver"
    #: Largest request body the API reads.
    max_body_bytes: int = 1_000_000
    #: HMAC secret signing access tokens (HS256); at least 32 bytes of your own in production.
    jwt_secret: str = DEV_ONLY_JWT_SECRET
    #: Lifetime of an access token (short: a refresh token gets the next one).
    access_token_minutes: int = 15
    #: Lifetime of a refresh token; each use replaces it with a new one.
    refresh_token_days: int = 7
    #: Consecutive failed logins that lock an account, and for how long.
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    #: Requests one principal (user or API key) may make, in the ``limits`` notation.
    rate_limit: str = "600/minute"

    @property
    def is_dev(self) -> bool:
        return self.env.strip().lower() == "dev"

    def require_own_keys(self, *, serving: bool = False) -> None:
        """Refuse to go on with the published development keys outside development mode.

        Called by every command that serves requests or stores personal data; a server
        (``serving``) also needs its own token-signing secret.
        """
        secrets = [
            ("LIMITWISE_PII_KEYS", self.pii_keys, DEV_ONLY_PII_KEYS),
            ("LIMITWISE_BLIND_INDEX_KEY", self.blind_index_key, DEV_ONLY_BLIND_INDEX_KEY),
        ]
        if serving:
            secrets.append(("LIMITWISE_JWT_SECRET", self.jwt_secret, DEV_ONLY_JWT_SECRET))
        published = [name for name, value, dev_value in secrets if value == dev_value]
        if published and not self.is_dev:
            raise UnsafeSettings(
                f"{' and '.join(published)} still hold the development keys published in the "
                "source: set them to secrets of your own (see docs/operations.md), or set "
                "LIMITWISE_ENV=dev on a development machine",
                field=published[0],
            )


class UnsafeSettings(LimitwiseError):
    """The configuration is not safe for the command asked (e.g. published keys)."""

    code = "unsafe_settings"


def get_settings() -> Settings:
    return Settings()
