"""Credentials for API tests, made the way a real client gets them: a user logs in through
the service, a service gets an API key issued by the auth service."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from limitwise.auth import service
from limitwise.auth.schemas import ApiKeyCreate, Role, Scope, UserCreate
from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.kit.settings import Settings

PASSWORD = "a-test-password"


def bearer(
    engine: Engine,
    username: str,
    role: Role,
    *,
    refs: Sequence[str] = (),
    clock: Clock | None = None,
    settings: Settings | None = None,
) -> dict[str, str]:
    """Create the user and log in: the ``Authorization`` header of its access token."""
    clock = clock or Clock.system()
    spec = UserCreate(username=username, password=PASSWORD, role=role, account_refs=list(refs))
    with unit_of_work(engine) as session:
        service.create_user(session, clock, spec=spec)
        tokens = service.login(
            session, clock, settings or Settings(), username=username, password=PASSWORD
        )
    assert not isinstance(tokens, Exception), tokens
    return {"Authorization": f"Bearer {tokens.access_token}"}


def api_key(engine: Engine, *scopes: Scope) -> tuple[str, dict[str, str]]:
    """(key id, the ``X-API-Key`` header) of a new key with ``scopes`` (default: all)."""
    spec = ApiKeyCreate(name="tests", scopes=list(scopes or Scope))
    with unit_of_work(engine) as session:
        issued = service.create_api_key(session, Clock.system(), spec=spec, created_by="tests")
    return issued.key_id, {"X-API-Key": issued.key}
