"""HTTP adapters against a real local HTTP server: answers, timeouts, malformed bodies."""

import logging
import sqlite3

import pytest
from sqlalchemy import make_url, text

from limitwise.kit.db import make_engine
from limitwise.onboarding.flows import submit_application
from limitwise.onboarding.schemas import ApplicationStatus
from limitwise.providers import bureau
from limitwise.providers.http import HttpRecordSource, make_client
from limitwise.providers.registry import http_sources, local_sources
from limitwise.providers.schemas import ConsentGrant, ConsentPurpose, Quality, Subject
from tests.onboarding.factory import CAR, CAR_OWNER_ID, PEOPLE, application, context, sample_clock
from tests.providers.server import PATHS, running_server

GRANT = ConsentGrant(ConsentPurpose.BUREAU_QUERY, "cns_test", "2026.1")
SUBJECT = Subject(
    PEOPLE[CAR_OWNER_ID]["name"], CAR_OWNER_ID, "+8613812345678", "6222021234567890128"
)
GOOD = {
    "as_of": "2026-11-15",
    "credit_score": 742,
    "overdue_count_24m": 0,
    "days_past_due_max_24m": 0,
    "lenders_30d": 0,
    "lenders_90d": 1,
    "enquiries_30d": 1,
    "enquiries_90d": 2,
    "debt_elsewhere": "18000.00",
    "linked_accounts": 2,
    "linked_accounts_delinquent": 0,
}


@pytest.fixture(scope="module")
def server():
    with running_server() as state:
        yield state


def ask_bureau(server, *, timeout=2.0):
    client = make_client(server.base_url, timeout_seconds=timeout)
    try:
        return bureau.report(
            HttpRecordSource(client, "bureau/report"),
            subject=SUBJECT,
            grant=GRANT,
            clock=sample_clock(),
            max_age_days=31,
        )
    finally:
        client.close()


def test_a_good_answer_becomes_facts(server):
    server.answer("/bureau/report", 200, GOOD)
    result = ask_bureau(server)
    assert result.quality is Quality.OK and result.provider == "http:bureau/report"
    assert result.facts.credit_score == 742 and result.facts.debt_elsewhere_fen == 1_800_000
    path, query = server.queries[-1]
    assert path == "/bureau/report" and query["resident_id"] == CAR_OWNER_ID
    assert query["business_date"] == "2026-11-23"


@pytest.mark.parametrize(
    ("status", "body", "delay", "quality", "reason"),
    [
        (200, GOOD, 1.0, Quality.UNAVAILABLE, "timeout"),
        (200, b"<html>oops</html>", 0, Quality.UNAVAILABLE, "malformed_response: not JSON"),
        (200, [GOOD], 0, Quality.UNAVAILABLE, "malformed_response: not a JSON object"),
        (503, {"error": "busy"}, 0, Quality.UNAVAILABLE, "http_status_503"),
        (404, {}, 0, Quality.MISSING, "no_record"),
        (
            200,
            {**GOOD, "credit_score": 1000},
            0,
            Quality.INCONSISTENT,
            "invalid_record: credit_score: Input should be less than or equal to 950",
        ),
        (
            200,
            {**GOOD, "lenders_30d": 5},
            0,
            Quality.INCONSISTENT,
            "lenders_30d exceeds lenders_90d",
        ),
        (
            200,
            {**GOOD, "as_of": "2026-09-01"},
            0,
            Quality.STALE,
            "stale: as_of 2026-09-01 is 83 days old (max 31)",
        ),
        (
            200,
            {**GOOD, "as_of": "2026-12-01"},
            0,
            Quality.INCONSISTENT,
            "as_of 2026-12-01 is in the future",
        ),
    ],
)
def test_failures_become_named_verdicts(server, status, body, delay, quality, reason):
    server.answer("/bureau/report", status, body, delay)
    result = ask_bureau(server, timeout=0.3)
    assert (result.quality, result.reason) == (quality, reason)
    assert (result.facts is not None) == (quality is Quality.STALE)


def test_unreachable_service_is_unavailable():
    client = make_client("http://127.0.0.1:9", timeout_seconds=0.5)
    result = bureau.report(
        HttpRecordSource(client, "bureau/report"),
        subject=SUBJECT,
        grant=GRANT,
        clock=sample_clock(),
        max_age_days=31,
    )
    assert result.quality is Quality.UNAVAILABLE
    assert result.reason.startswith("connection_failed")


def test_whole_application_over_http_matches_the_local_adapters(engine, server, caplog):
    caplog.set_level(logging.DEBUG)
    server.serve_sources(local_sources())
    outcomes = {}
    for name, sources in (
        ("http", http_sources(server.base_url, timeout_seconds=2.0, api_key="s3cret")),
        ("local", local_sources()),
    ):
        outcomes[name] = submit_application(
            engine,
            sample_clock(),
            raw=application(vehicle=CAR),
            context=context(sources=sources, window_days=0),
        )
    http, local = outcomes["http"], outcomes["local"]
    assert server.authorizations[-5:] == ["Bearer s3cret"] * 5
    assert "POST" in caplog.text  # httpx and httpcore logged the calls...
    for secret in (CAR_OWNER_ID, "13812345678", "6222021234567890128", "s3cret"):
        assert secret not in caplog.text  # ...but no identifier and no key
    assert http.status is ApplicationStatus.PENDING_DECISION
    assert [r.facts for r in http.facts.results()] == [r.facts for r in local.facts.results()]
    assert {r.provider for r in http.facts.results()} == {
        "http:realname/verify",
        "http:bureau/report",
        "http:income/verify",
        "http:vehicle/check",
        "http:macro/latest",
    }


def test_bureau_timeout_leaves_the_application_incomplete(engine, server):
    server.serve_sources(local_sources())
    server.answer("/bureau/report", 200, GOOD, delay=1.0)
    outcome = submit_application(
        engine,
        sample_clock(),
        raw=application(),
        context=context(sources=http_sources(server.base_url, timeout_seconds=0.3)),
    )
    assert outcome.status is ApplicationStatus.INCOMPLETE
    assert [(r.code, r.message) for r in outcome.reasons if r.code.startswith("bureau")] == [
        ("bureau_unavailable", "bureau via http:bureau/report: unavailable (timeout)")
    ]


def open_transactions(db_url: str) -> int:
    """How many transactions are open on the book, seen from outside the application."""
    parsed = make_url(db_url)
    if parsed.get_backend_name() == "sqlite":
        probe = sqlite3.connect(parsed.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")  # the write lock: free unless a writer holds it
            probe.execute("ROLLBACK")
            return 0
        except sqlite3.OperationalError:
            return 1
        finally:
            probe.close()
    probe_engine = make_engine(db_url)
    try:
        with probe_engine.connect() as conn:
            return conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                    "AND (xact_start IS NOT NULL OR state <> 'idle')"
                )
            )
    finally:
        probe_engine.dispose()


def test_no_transaction_is_open_while_a_provider_answers(db_url, engine, server):
    """Every provider, while it handles its request, looks at the book from outside: no
    transaction of the application may be open (on SQLite it would hold the write lock
    for as long as the provider takes)."""
    server.serve_sources(local_sources())
    seen: dict[str, int] = {}
    for path, route in list(server.routes.items()):

        def probing(query, path=path, route=route):
            seen[path] = open_transactions(db_url)
            return route(query)

        server.routes[path] = probing
    outcome = submit_application(
        engine,
        sample_clock(),
        raw=application(vehicle=CAR),
        context=context(sources=http_sources(server.base_url, timeout_seconds=5.0)),
    )
    assert outcome.status is ApplicationStatus.PENDING_DECISION
    assert seen == dict.fromkeys(PATHS.values(), 0)
