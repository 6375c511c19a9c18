"""The authorization matrix, route by route and role by role, on a demo book.

Every route the app serves has an entry; each role gets exactly what its entry allows (a
refused role is a 403, no credential a 401); a borrower naming another borrower's account
or application gets the 404 of one that does not exist; an expired token and a revoked key are 401.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from rich.console import Console

from limitwise.api import app as app_module
from limitwise.api.app import create_app
from limitwise.api.authz import MATRIX, served_routes
from limitwise.auth import service
from limitwise.auth.schemas import Role, Scope
from limitwise.demo import DEMO_DATE, run_demo
from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.servicing import service as servicing
from tests.api.credentials import api_key, bearer

#: A minor's application: declined on eligibility, before any data provider is asked.
UNDER_AGE = {
    "name": "张小雨",
    "resident_id": "110105201001014564",
    "mobile": "15012345678",
    "bank_card": "6200001111222233334",
    "declared_monthly_income_fen": 0,
    "consents": [
        {"purpose": p, "text_version": "2026.1", "granted_at": f"{DEMO_DATE}T09:00:00+08:00"}
        for p in ("identity_verification", "bureau_query")
    ],
}
#: Path parameters that name something the demo book has (the borrower holds DEMO-001);
#: the fixture adds the refs the book made (DEMO-001's draw, the borrower's application,
#: which the application routes name as ``ref``).
PATH_VALUES = {
    "ref": "DEMO-001",
    "username": "borrower",
    "key_id": "0" * 16,
    "policy_key": "jiebei-default",
}


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict]]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('authz')) / 'book.db'}"
    assert run_demo(url, accounts=2, console=Console(file=io.StringIO())) == 0
    app = create_app(url)
    engine = app.state.engine
    revoked_id, revoked = api_key(engine)
    with unit_of_work(engine) as session:
        service.revoke_api_key(session, Clock.system(), key_id=revoked_id)
    credentials = {
        Role.ADMIN: bearer(engine, "t-admin", Role.ADMIN),
        Role.ANALYST: bearer(engine, "t-analyst", Role.ANALYST),
        Role.BORROWER: bearer(engine, "t-borrower", Role.BORROWER, refs=["DEMO-001"]),
        Role.SERVICE: api_key(engine)[1],
        "other_borrower": bearer(engine, "t-other", Role.BORROWER, refs=["DEMO-002"]),
        "read_only_key": api_key(engine, Scope.ACCOUNTS_READ)[1],
        "expired": bearer(engine, "t-expired", Role.ADMIN, clock=Clock.fixed(dt.date(2020, 1, 1))),
        "revoked": revoked,
    }
    with unit_of_work(engine) as session:
        state = servicing.account_state(session, ref="DEMO-001", as_of=DEMO_DATE)
    with TestClient(app, raise_server_exceptions=False) as client:
        applied = client.post(
            "/v1/applications",
            json=UNDER_AGE,
            headers={**credentials[Role.BORROWER], "Idempotency-Key": "applied"},
        )
        assert applied.status_code == 201, applied.text
        values = PATH_VALUES | {
            "draw_ref": state.draws[0].ref,
            "application_ref": applied.json()["application_ref"],
        }
        yield client, credentials, values
    engine.dispose()


def _call(client: TestClient, name: str, headers: dict[str, str], values: dict[str, str]):
    method, path = name.split(" ", 1)
    if MATRIX[name].application_param:
        values = values | {"ref": values["application_ref"]}
    url = path.format(**values)
    body = {"json": {}} if method in {"POST", "PATCH"} else {}
    return client.request(method, url, headers={**headers, "Idempotency-Key": "authz"}, **body)


PROTECTED = sorted(name for name, rule in MATRIX.items() if not rule.public)


def test_every_served_route_has_an_entry_and_every_entry_a_route(book):
    client, _, _ = book
    served = set(served_routes(client.app, client.app.state.mounted))
    assert served == set(MATRIX)


def test_a_route_added_without_an_entry_stops_the_app(monkeypatch, tmp_path):
    extra = APIRouter()

    @extra.get("/new-domain")
    def new_domain() -> dict[str, str]:
        return {}

    routers = app_module._routers
    monkeypatch.setattr(app_module, "_routers", lambda: (routers()[0], [*routers()[1], extra]))
    with pytest.raises(RuntimeError, match=r"GET /v1/new-domain"):
        create_app(f"sqlite:///{tmp_path / 'x.db'}")


@pytest.mark.parametrize("name", PROTECTED)
@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_what_its_entry_allows(book, name, role):
    client, credentials, values = book
    response = _call(client, name, credentials[role], values)
    if role in MATRIX[name].roles:
        assert response.status_code not in {401, 403}, response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize("name", PROTECTED)
def test_no_credential_an_expired_token_and_a_revoked_key_are_401(book, name):
    client, credentials, values = book
    for who, code in (
        ({}, "unauthenticated"),
        (credentials["expired"], "token_expired"),
        (credentials["revoked"], "api_key_revoked"),
        ({"Authorization": "Bearer not-a-token"}, "unauthenticated"),
        ({"X-API-Key": "lwk_0000_guess"}, "invalid_api_key"),
    ):
        response = _call(client, name, who, values)
        assert response.status_code == 401, (who, response.text)
        assert response.json()["code"] == code
        assert response.headers["www-authenticate"] == "Bearer"


ACCOUNT_ROUTES = sorted(name for name in PROTECTED if MATRIX[name].account_param)


@pytest.mark.parametrize("name", ACCOUNT_ROUTES)
def test_a_borrower_naming_another_borrowers_account_finds_nothing(book, name):
    client, credentials, values = book
    response = _call(client, name, credentials["other_borrower"], values)
    assert response.status_code == 404, response.text
    assert response.json()["field"] == "account"
    assert response.json()["detail"] == "no credit account 'DEMO-001'"


APPLICATION_ROUTES = sorted(name for name in PROTECTED if MATRIX[name].application_param)


@pytest.mark.parametrize("name", APPLICATION_ROUTES)
def test_a_borrower_naming_another_borrowers_application_finds_nothing(book, name):
    client, credentials, values = book
    response = _call(client, name, credentials["other_borrower"], values)
    assert response.status_code == 404, response.text
    assert response.json()["field"] == "application"
    assert response.json()["detail"] == f"no application {values['application_ref']!r}"


def test_a_key_is_held_to_its_scopes(book):
    client, credentials, values = book
    key = credentials["read_only_key"]
    assert client.get("/v1/accounts/DEMO-001", headers=key).status_code == 200
    draw = client.post(
        "/v1/accounts/DEMO-001/draws", json={}, headers={**key, "Idempotency-Key": "s"}
    )
    assert (draw.status_code, draw.json()["code"]) == (403, "forbidden")
    assert "accounts:write" in draw.json()["detail"]
    assert client.get("/v1/ledger/trial-balance", headers=key).status_code == 403
    application = client.get(f"/v1/applications/{values['application_ref']}", headers=key)
    assert (application.status_code, application.json()["code"]) == (403, "forbidden")
    assert "applications:read" in application.json()["detail"]


def test_public_routes_need_no_credential(book):
    client, _, _ = book
    assert client.get("/v1/health").status_code == 200
    assert client.get("/v1/ready").json()["status"] == "ready"
    assert client.get("/v1/floor").json() == {"ok": True}
    assert "limitwise_http_request_duration_seconds" in client.get("/metrics").text
