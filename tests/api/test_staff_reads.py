"""Staff read who holds an account with every identifier masked; each read is in the audit
chain, and so is every change made through the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from limitwise.api.app import create_app
from limitwise.auth.schemas import Role
from limitwise.lines import flows
from limitwise.lines.service import LineContext
from limitwise.onboarding.pii import PiiVault
from tests.api.credentials import bearer
from tests.lines.helpers import ChosenFeatures, start_simulation
from tests.onboarding import factory


@pytest.fixture
def held(db_url: str) -> Iterator[tuple[TestClient, str, dict[str, str]]]:
    """An account opened from an application, and an analyst's credential."""
    app = create_app(db_url)
    engine: Engine = app.state.engine
    context = LineContext(features=ChosenFeatures())
    clock = factory.sample_clock()
    start_simulation(engine, clock)
    flows.prepare(engine, clock, context=context)
    onboarding = factory.context(pii=PiiVault.from_settings(app.state.settings))
    _, decided = flows.apply(
        engine, clock, raw=factory.application(), onboarding=onboarding, context=context
    )
    assert decided is not None and decided.account_ref is not None
    analyst = bearer(engine, "ann", Role.ANALYST)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, decided.account_ref, analyst
    engine.dispose()


def _audit_actions(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT actor, action FROM audit_records ORDER BY id"))
        return [(actor, action) for actor, action in rows]


def test_the_holder_is_masked_and_the_read_is_audited(held):
    client, ref, analyst = held
    holder = client.get(f"/v1/accounts/{ref}/holder", headers=analyst)
    assert holder.status_code == 200, holder.text
    body = holder.json()
    assert body["account_ref"] == ref
    assert factory.CAR_OWNER_ID not in holder.text
    assert "*" in body["resident_id"] and "*" in body["mobile"] and "*" in body["bank_card"]
    assert _audit_actions(client.app.state.engine) == [("ann", "pii.read")]


def test_a_search_by_resident_id_finds_the_accounts_and_is_audited(held):
    client, ref, analyst = held
    found = client.post(
        "/v1/holders/search", json={"resident_id": factory.CAR_OWNER_ID}, headers=analyst
    )
    assert [h["account_ref"] for h in found.json()] == [ref]
    nobody = client.post(
        "/v1/holders/search", json={"resident_id": "11010519491231002X"}, headers=analyst
    )
    assert nobody.json() == []
    assert _audit_actions(client.app.state.engine) == [("ann", "pii.read")] * 2


def test_line_history_carries_the_reasons(held):
    client, ref, analyst = held
    history = client.get(f"/v1/accounts/{ref}/line-history", headers=analyst).json()
    assert history[0]["trigger"] == "application"
    assert 1 <= len(history[0]["reasons"]) <= 4


def test_every_change_through_the_api_is_chained_and_verifies(held):
    client, ref, _analyst = held
    admin = bearer(client.app.state.engine, "root", Role.ADMIN)
    created = client.post(
        "/v1/users",
        json={
            "username": "bob",
            "password": "bo-password",
            "role": "borrower",
            "account_refs": [ref],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    bo = bearer_of(client, "bob", "bo-password")
    paid = client.post(
        f"/v1/accounts/{ref}/repayments",
        json={"amount_fen": 100},
        headers={**bo, "Idempotency-Key": "p1"},
    )
    assert paid.status_code == 201, paid.text
    assert _audit_actions(client.app.state.engine) == [
        ("root", "user.create"),
        ("bob", "repayment.create"),
    ]
    verified = client.get("/v1/audit/verify", headers=admin).json()
    assert verified == {
        "ok": True,
        "records_checked": 2,
        "first_bad_seq": None,
        "first_bad_chain": None,
        "problem": "",
    }


def bearer_of(client: TestClient, username: str, password: str) -> dict[str, str]:
    form = {"grant_type": "password", "username": username, "password": password}
    token = client.post("/v1/auth/token", data=form).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}
