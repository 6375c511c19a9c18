"""Logging in over HTTP: tokens, refresh, lockout, disabled users, role changes, rate limits."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from limitwise.api.app import create_app
from limitwise.auth.schemas import Role
from limitwise.kit.settings import Settings
from tests.api.credentials import PASSWORD, bearer


@pytest.fixture
def client(tmp_path: Path, sqlite_template: Path) -> Iterator[TestClient]:
    path = tmp_path / "book.db"
    shutil.copyfile(sqlite_template, path)
    settings = Settings(login_max_failures=3, rate_limit="1000/minute")
    app = create_app(f"sqlite:///{path}", settings=settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.engine.dispose()


def _login(client: TestClient, username: str, password: str = PASSWORD):
    form = {"grant_type": "password", "username": username, "password": password}
    return client.post("/v1/auth/token", data=form)


def test_a_login_gets_a_short_lived_token_that_names_the_user(client):
    admin = bearer(client.app.state.engine, "root", Role.ADMIN)
    bearer(client.app.state.engine, "ann", Role.ANALYST)
    tokens = _login(client, "ann").json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 15 * 60
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json() == {"username": "ann", "role": "analyst", "account_refs": []}
    assert client.get("/v1/users", headers=admin).status_code == 200


def test_a_refresh_token_is_used_once(client):
    bearer(client.app.state.engine, "ann", Role.ANALYST)
    first = _login(client, "ann").json()
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = client.post("/v1/auth/token", data=refresh)
    assert second.status_code == 200, second.text
    assert second.json()["refresh_token"] != first["refresh_token"]
    again = client.post("/v1/auth/token", data=refresh)
    assert (again.status_code, again.json()["code"]) == (401, "invalid_grant")


def test_repeated_failures_lock_the_user_even_against_the_right_password(client):
    bearer(client.app.state.engine, "ann", Role.ANALYST)
    for _ in range(3):
        wrong = _login(client, "ann", "not-the-password")
        assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials")
    locked = _login(client, "ann")
    assert (locked.status_code, locked.json()["code"]) == (401, "login_locked")
    assert "locked until" in locked.json()["detail"]


def test_an_unknown_user_reads_like_a_wrong_password(client):
    response = _login(client, "nobody")
    assert (response.status_code, response.json()["code"]) == (401, "invalid_credentials")


def test_disabling_a_user_or_changing_a_role_applies_to_tokens_already_issued(client):
    engine = client.app.state.engine
    admin = bearer(engine, "root", Role.ADMIN)
    ann = bearer(engine, "ann", Role.ADMIN)
    assert client.get("/v1/users", headers=ann).status_code == 200
    demoted = client.patch("/v1/users/ann", json={"role": "analyst"}, headers=admin)
    assert demoted.json()["role"] == "analyst"
    assert client.get("/v1/users", headers=ann).status_code == 403
    client.patch("/v1/users/ann", json={"active": False}, headers=admin)
    assert client.get("/v1/me", headers=ann).status_code == 401
    assert _login(client, "ann").status_code == 401


def test_only_borrowers_hold_accounts_and_only_existing_ones(client):
    admin = bearer(client.app.state.engine, "root", Role.ADMIN)
    body = {"username": "ann", "password": PASSWORD, "role": "analyst", "account_refs": ["A"]}
    staff = client.post("/v1/users", json=body, headers=admin)
    assert (staff.status_code, staff.json()["code"]) == (422, "holder_not_borrower")
    missing = client.post("/v1/users", json={**body, "role": "borrower"}, headers=admin)
    assert (missing.status_code, missing.json()["field"]) == (404, "account")


def test_api_keys_are_shown_once_and_stored_as_digests(client):
    engine = client.app.state.engine
    admin = bearer(engine, "root", Role.ADMIN)
    issued = client.post(
        "/v1/api-keys", json={"name": "app", "scopes": ["accounts:read"]}, headers=admin
    ).json()
    assert issued["key"].startswith(f"lwk_{issued['key_id']}_")
    listed = client.get("/v1/api-keys", headers=admin).json()
    assert "key" not in listed[0]
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT secret_digest FROM auth_api_keys").scalar_one()
    assert issued["key"].rsplit("_", 1)[1] not in stored
    key = {"X-API-Key": issued["key"]}
    assert client.get("/v1/accounts", headers=key).status_code == 200
    revoked = client.delete(f"/v1/api-keys/{issued['key_id']}", headers=admin)
    assert revoked.json()["revoked"] is True
    assert client.get("/v1/accounts", headers=key).json()["code"] == "api_key_revoked"


def test_a_principal_over_its_rate_is_429_with_retry_after(tmp_path, sqlite_template):
    path = tmp_path / "book.db"
    shutil.copyfile(sqlite_template, path)
    app = create_app(f"sqlite:///{path}", settings=Settings(rate_limit="3/minute"))
    ann = bearer(app.state.engine, "ann", Role.ANALYST)
    other = bearer(app.state.engine, "bob", Role.ANALYST)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert [client.get("/v1/me", headers=ann).status_code for _ in range(3)] == [200] * 3
        limited = client.get("/v1/me", headers=ann)
        assert client.get("/v1/me", headers=other).status_code == 200
    app.state.engine.dispose()
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


def test_guessing_credentials_is_rate_limited_by_address(tmp_path, sqlite_template):
    path = tmp_path / "book.db"
    shutil.copyfile(sqlite_template, path)
    app = create_app(f"sqlite:///{path}", settings=Settings(rate_limit="3/minute"))
    with TestClient(app, raise_server_exceptions=False) as client:
        guesses = [
            client.get("/v1/accounts", headers={"X-API-Key": f"lwk_{n}_guess"}).status_code
            for n in range(4)
        ]
    app.state.engine.dispose()
    assert guesses == [401, 401, 401, 429]
