"""Applications over HTTP on SQLite and PostgreSQL, with the shipped policy and the packaged
sample data: a borrower applies and holds the account it opens; a resubmission with the same
Idempotency-Key answers the original outcome and opens nothing; bad input names the field
and the rule and stores nothing; another borrower's application is a 404; staff reads are
masked and audited; and no transaction is open while the data providers answer."""

from __future__ import annotations

import copy
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from limitwise.api.app import create_app
from limitwise.auth.schemas import Role, Scope
from limitwise.kit import migrate
from limitwise.kit.settings import Settings
from limitwise.lines import flows
from limitwise.providers.registry import local_sources
from tests.api.credentials import api_key, bearer
from tests.lines.helpers import start_simulation
from tests.onboarding import factory
from tests.providers.server import ProviderServer, running_server


def api_form(raw: dict[str, Any]) -> dict[str, Any]:
    """An onboarding form (yuan) as the API takes it (fen)."""
    body = copy.deepcopy(raw)
    body["declared_monthly_income_fen"] = int(body.pop("declared_monthly_income").replace(".", ""))
    if "vehicle" in body:
        price = body["vehicle"].pop("purchase_price")
        body["vehicle"]["purchase_price_fen"] = int(price.replace(".", ""))
    return body


CAR_OWNER = api_form(factory.application(vehicle=factory.CAR))
UNDER_AGE = api_form(factory.application(factory.UNDER_AGE_ID))


def open_book(db_url: str, settings: Settings | None = None) -> TestClient:
    """A book on the sample data's day with the shipped products, policy and scorecards."""
    migrate.upgrade(db_url)
    app = create_app(db_url, settings=settings)
    engine: Engine = app.state.engine
    clock = factory.sample_clock()
    start_simulation(engine, clock)
    flows.prepare(engine, clock, context=flows.default_context())
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def book(db_url: str) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    with open_book(db_url) as client:
        engine = client.app.state.engine
        who = {
            "borrower": bearer(engine, "li.na", Role.BORROWER),
            "other": bearer(engine, "wang.wu", Role.BORROWER),
            "analyst": bearer(engine, "ann", Role.ANALYST),
            "service": api_key(engine, Scope.APPLICATIONS_WRITE, Scope.APPLICATIONS_READ)[1],
            "reader_key": api_key(engine, Scope.ACCOUNTS_READ)[1],
        }
        yield client, who
        engine.dispose()


def submit(client: TestClient, headers: dict[str, str], key: str, body: dict[str, Any]):
    return client.post("/v1/applications", json=body, headers={**headers, "Idempotency-Key": key})


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def _audit(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT actor, action, target FROM audit_records ORDER BY seq"))
        return [(actor, action, target) for actor, action, target in rows]


def test_a_borrower_applies_and_holds_the_account_it_opens(book):
    client, who = book
    me = who["borrower"]
    submitted = submit(client, me, "a1", CAR_OWNER)
    assert submitted.status_code == 201, submitted.text
    decision = submitted.json()
    assert decision["status"] == "approved"
    assert decision["eligibility_policy"] == "onboarding-default-2026.1"
    assert decision["line_policy"].startswith("jiebei-default@")
    assert 1 <= len(decision["reasons"]) <= 4
    ref, account = decision["application_ref"], decision["account_ref"]
    # the line the decision assigned is the line of the account it opened, which is theirs
    assert client.get("/v1/me", headers=me).json()["account_refs"] == [account]
    opened = client.get(f"/v1/accounts/{account}", headers=me).json()
    assert opened["line_fen"] == decision["line_fen"] > 0
    assert client.get(f"/v1/applications/{ref}/decision", headers=me).json() == decision
    status = client.get(f"/v1/applications/{ref}", headers=me).json()
    assert status == {
        "application_ref": ref,
        "status": "approved",
        "received_on": str(factory.SAMPLE_DAY),
        "resident_id": "110105********1239",
        "duplicate_of": None,
        "account_ref": account,
    }


def test_a_resubmission_with_its_key_answers_the_original_and_opens_nothing(book):
    client, who = book
    me, engine = who["borrower"], client.app.state.engine
    first = submit(client, me, "k", CAR_OWNER)
    again = submit(client, me, "k", CAR_OWNER)
    assert (again.status_code, again.json()) == (201, first.json())
    assert (_count(engine, "applications"), _count(engine, "credit_accounts")) == (1, 1)
    changed = submit(client, me, "k", {**CAR_OWNER, "channel": "app"})
    assert (changed.status_code, changed.json()["code"]) == (409, "idempotency_key_reused")
    # another caller's key is never replayed to them
    theirs = submit(client, who["other"], "k", CAR_OWNER)
    assert (theirs.status_code, theirs.json()["code"]) == (409, "idempotency_key_reused")
    # without the key, a resubmission within the window is onboarding's duplicate
    fresh = submit(client, me, "k2", CAR_OWNER).json()
    assert fresh["status"] == "duplicate"
    assert (
        client.get(f"/v1/applications/{fresh['application_ref']}", headers=me).json()[
            "duplicate_of"
        ]
        == first.json()["application_ref"]
    )
    assert _count(engine, "credit_accounts") == 1


def test_a_declined_application_has_its_reasons_and_stays_the_borrowers(book):
    client, who = book
    declined = submit(client, who["borrower"], "u", UNDER_AGE)
    assert declined.status_code == 201, declined.text
    body = declined.json()
    assert (body["status"], body["account_ref"], body["line_fen"]) == ("declined", None, 0)
    assert [r["code"] for r in body["reasons"]] == ["below_legal_age"]
    assert body["line_policy"] is None
    ref = body["application_ref"]
    assert client.get(f"/v1/applications/{ref}", headers=who["borrower"]).status_code == 200
    assert client.get("/v1/me", headers=who["borrower"]).json()["account_refs"] == []


def test_another_borrowers_application_is_the_404_of_a_missing_one(book):
    client, who = book
    ref = submit(client, who["borrower"], "a", CAR_OWNER).json()["application_ref"]
    for path in (f"/v1/applications/{ref}", f"/v1/applications/{ref}/decision"):
        theirs = client.get(path, headers=who["other"])
        missing = client.get(path.replace(ref, "app_missing"), headers=who["other"])
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json() == {
            **missing.json(),
            "detail": f"no application {ref!r}",
            "problems": [{**missing.json()["problems"][0], "message": f"no application {ref!r}"}],
        }
        assert theirs.json()["field"] == "application"


def test_staff_reads_are_masked_and_audited_borrower_reads_are_not(book):
    client, who = book
    ref = submit(client, who["borrower"], "a", CAR_OWNER).json()["application_ref"]
    client.get(f"/v1/applications/{ref}", headers=who["borrower"])
    read = client.get(f"/v1/applications/{ref}", headers=who["analyst"])
    decision = client.get(f"/v1/applications/{ref}/decision", headers=who["analyst"])
    assert read.status_code == decision.status_code == 200
    assert factory.CAR_OWNER_ID not in read.text + decision.text
    assert _audit(client.app.state.engine) == [
        ("li.na", "application.submit", f"application:{ref}"),
        ("ann", "pii.read", f"application:{ref}"),
        ("ann", "pii.read", f"application:{ref}"),
    ]
    verified = client.get(
        "/v1/audit/verify", headers=bearer(client.app.state.engine, "root", Role.ADMIN)
    )
    assert verified.json()["ok"] is True


def test_a_service_applies_on_behalf_of_an_applicant_with_its_scope(book):
    client, who = book
    refused = submit(client, who["reader_key"], "s", CAR_OWNER)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert "applications:write" in refused.json()["detail"]
    made = submit(client, who["service"], "s", CAR_OWNER)
    assert made.status_code == 201, made.text
    ref = made.json()["application_ref"]
    assert client.get(f"/v1/applications/{ref}", headers=who["service"]).json()["status"] == (
        "approved"
    )
    # nobody's borrower login is linked to it
    assert client.get(f"/v1/applications/{ref}", headers=who["borrower"]).status_code == 404


def test_bad_input_names_each_field_and_rule_and_stores_nothing(book):
    client, who = book
    bad = copy.deepcopy(CAR_OWNER)
    bad["resident_id"] = "110105199003071238"  # wrong check digit
    bad["consents"][1]["text_version"] = "1999.1"
    bad["vehicle"]["first_registration_year"] = 1900
    refused = submit(client, who["borrower"], "b", bad)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problems = {(p["field"], p["rule"]) for p in refused.json()["problems"]}
    assert problems == {
        ("resident_id", "id_check_digit"),
        ("consents.1.text_version", "known_consent_text"),
        ("vehicle.first_registration_year", "year_range"),
    }
    shape = submit(
        client, who["borrower"], "b", {**CAR_OWNER, "declared_monthly_income_fen": "1.5"}
    )
    assert (shape.json()["field"], shape.json()["code"]) == (
        "declared_monthly_income_fen",
        "int_type",
    )
    engine = client.app.state.engine
    assert _count(engine, "applications") == _count(engine, "idempotency_keys") == 0
    # the key was not spent on a refused request: the corrected one goes through with it
    assert submit(client, who["borrower"], "b", CAR_OWNER).status_code == 201


def _open_transactions(db_url: str) -> list[str]:
    """What a second client finds open on the book: transactions idle on PostgreSQL, the
    write lock on SQLite (where every transaction takes it, reads included)."""
    if db_url.startswith("sqlite"):
        probe = sqlite3.connect(
            db_url.removeprefix("sqlite:///"), timeout=0.2, isolation_level=None
        )
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return []
        except sqlite3.OperationalError as exc:
            return [str(exc)]
        finally:
            probe.close()
    probe_engine = create_engine(db_url, poolclass=NullPool)
    try:
        with probe_engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                )
            )
            return [state for (state,) in rows]
    finally:
        probe_engine.dispose()


def test_no_transaction_is_open_while_the_providers_answer(db_url):
    seen: list[list[str]] = []
    with running_server() as providers:
        providers.serve_sources(local_sources())
        _probe_during(providers, "/bureau/report", lambda: seen.append(_open_transactions(db_url)))
        settings = Settings(provider_backend="http", provider_base_url=providers.base_url)
        with open_book(db_url, settings) as client:
            borrower = bearer(client.app.state.engine, "li.na", Role.BORROWER)
            made = submit(client, borrower, "p", CAR_OWNER)
            client.app.state.engine.dispose()
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "approved"
    assert seen == [[]]


def _probe_during(providers: ProviderServer, path: str, probe: Any) -> None:
    answer = providers.routes[path]

    def probed(query: dict[str, Any]) -> tuple[int, bytes, float]:
        probe()
        return answer(query)

    providers.routes[path] = probed


def test_twin_submissions_with_one_key_store_one_application(db_url):
    """Both twins ask the providers side by side (a barrier holds each until the other
    arrives); the one stored second finds the key taken and answers the first's result."""
    together = threading.Barrier(2, timeout=20)
    with running_server() as providers:
        providers.serve_sources(local_sources())
        _probe_during(providers, "/bureau/report", together.wait)
        settings = Settings(provider_backend="http", provider_base_url=providers.base_url)
        with open_book(db_url, settings) as client:
            engine = client.app.state.engine
            borrower = bearer(engine, "li.na", Role.BORROWER)
            with ThreadPoolExecutor(2) as pool:
                twins = list(
                    pool.map(lambda _: submit(client, borrower, "twin", CAR_OWNER), [1, 2])
                )
            counts = _count(engine, "applications"), _count(engine, "credit_accounts")
            engine.dispose()
    assert [t.status_code for t in twins] == [201, 201], [t.text for t in twins]
    assert twins[0].json() == twins[1].json()
    assert twins[0].json()["status"] == "approved"
    assert counts == (1, 1)


def test_a_borrower_who_holds_an_account_applies_only_as_its_holder(book):
    client, who = book
    me, engine = who["borrower"], client.app.state.engine
    assert submit(client, me, "mine", CAR_OWNER).json()["status"] == "approved"
    someone_else = api_form(factory.application(factory.SALARIED_ID))
    refused = submit(client, me, "theirs", someone_else)
    assert refused.status_code == 422, refused.text
    assert (refused.json()["code"], refused.json()["field"]) == (
        "applicant_not_borrower",
        "resident_id",
    )
    assert _count(engine, "applications") == 1
    # themselves, again: onboarding's duplicate, as for anyone
    assert submit(client, me, "again", CAR_OWNER).json()["status"] == "duplicate"
