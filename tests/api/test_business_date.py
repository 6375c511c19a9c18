"""One running server across a close of business: it reads the stored business date for
every request, so after `cob run` closes day D the next draw and repayment are on D+1 (the
server used to keep the date it started with: the draw was refused and the repayment
replayed the account as backdated)."""

import datetime as dt
import threading

from sqlalchemy import event
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from limitwise.businessdate import service as business_dates
from limitwise.cli import app
from limitwise.demo import DEMO_DATE
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.servicing.flows import close_through, run_cob

DRAW = {"amount_fen": 1000_00, "repayment_type": "daily", "term_months": 3}
NEXT_DAY = DEMO_DATE + dt.timedelta(days=1)


def test_draw_cob_draw_repay_on_one_running_server(api, as_, db_url):
    me = as_["borrower2"]
    first = api.post(
        "/v1/accounts/DEMO-002/draws", json=DRAW, headers={**me, "Idempotency-Key": "d1"}
    )
    assert first.status_code == 201, first.text
    assert first.json()["drawn_on"] == DEMO_DATE.isoformat()

    closed = CliRunner().invoke(app, ["cob", "run", "--db", db_url])
    assert closed.exit_code == 0, closed.output
    assert f"COB through {DEMO_DATE}" in closed.output
    assert api.get("/v1/health").json()["business_date"] == NEXT_DAY.isoformat()

    second = api.post(
        "/v1/accounts/DEMO-002/draws", json=DRAW, headers={**me, "Idempotency-Key": "d2"}
    )
    assert second.status_code == 201, second.text
    assert second.json()["drawn_on"] == NEXT_DAY.isoformat()
    repay = {"amount_fen": 500_00}
    repaid = api.post(
        "/v1/accounts/DEMO-002/repayments", json=repay, headers={**me, "Idempotency-Key": "r1"}
    )
    assert repaid.status_code == 201, repaid.text
    assert repaid.json()["effective_date"] == NEXT_DAY.isoformat()
    assert repaid.json()["replayed"] is False
    events = api.get("/v1/accounts/DEMO-002/events", headers=me).json()
    assert "replayed" not in {event["kind"] for event in events}
    assert api.get("/v1/ledger/trial-balance", headers=as_["admin"]).json()["ok"] is True


def test_a_cob_finishing_right_after_a_request_read_its_date_does_not_refuse_it(
    api, as_, api_app, db_url
):
    """Close of business of D runs to its end the moment the transaction in which the
    request read the business date commits. The date is read inside the endpoint's own
    transaction, so COB lands after the draw, which is on D and which COB then closes (the
    date used to be read in a transaction of its own: COB landed between the two, closed D
    and the draw was refused with 422 business_day_closed)."""
    engine = api_app.state.engine
    read_date = threading.local()
    closes = []

    def saw(_conn, _cursor, statement, *_args):
        if "FROM business_dates" in statement:
            read_date.seen = True

    def committed(session):
        if session.bind is engine and getattr(read_date, "seen", False) and not closes:
            cob_engine = make_engine(db_url)
            try:
                closes.append(close_through(cob_engine, Clock.fixed(DEMO_DATE), through=DEMO_DATE))
            finally:
                cob_engine.dispose()

    event.listen(engine, "after_cursor_execute", saw)
    event.listen(Session, "after_commit", committed)
    try:
        drew = api.post(
            "/v1/accounts/DEMO-002/draws",
            json=DRAW,
            headers={**as_["borrower2"], "Idempotency-Key": "d1"},
        )
    finally:
        event.remove(Session, "after_commit", committed)
        event.remove(engine, "after_cursor_execute", saw)
    assert drew.status_code == 201, drew.text
    assert drew.json()["drawn_on"] == DEMO_DATE.isoformat()
    ((report, dates),) = closes
    assert report.ok and dates.business_date == NEXT_DAY
    assert api.get("/v1/health").json()["business_date"] == NEXT_DAY.isoformat()
    assert api.get("/v1/ledger/trial-balance", headers=as_["admin"]).json()["ok"] is True


def test_mid_cob_a_closed_account_asks_for_a_retry_then_serves_the_next_day(api, as_, db_url):
    """Close of business has closed every account through D but not yet advanced the date
    (its last step): a draw or repayment dated D on a closed account answers 503 with
    Retry-After and applies nothing (it used to be refused as on a closed day, and the
    repayment replayed the account as backdated); once the date moves they are on D+1."""
    me = as_["borrower2"]
    engine = make_engine(db_url)
    try:
        report = run_cob(engine, Clock.fixed(DEMO_DATE), as_of=DEMO_DATE)
        assert report.ok
        before = api.get("/v1/accounts/DEMO-002", headers=me).json()
        for path, body in (("draws", DRAW), ("repayments", {"amount_fen": 500_00})):
            busy = api.post(
                f"/v1/accounts/DEMO-002/{path}", json=body, headers={**me, "Idempotency-Key": path}
            )
            assert busy.status_code == 503, busy.text
            assert busy.json()["code"] == "cob_in_progress" and busy.headers["Retry-After"] == "5"
        assert api.get("/v1/accounts/DEMO-002", headers=me).json() == before
        with unit_of_work(engine) as session:
            business_dates.record_cob(session, Clock.fixed(DEMO_DATE), through=DEMO_DATE)
    finally:
        engine.dispose()
    drew = api.post(
        "/v1/accounts/DEMO-002/draws", json=DRAW, headers={**me, "Idempotency-Key": "draws"}
    )
    assert drew.status_code == 201, drew.text
    assert drew.json()["drawn_on"] == NEXT_DAY.isoformat()
    repaid = api.post(
        "/v1/accounts/DEMO-002/repayments",
        json={"amount_fen": 500_00},
        headers={**me, "Idempotency-Key": "repayments"},
    )
    assert repaid.status_code == 201, repaid.text
    assert (repaid.json()["effective_date"], repaid.json()["replayed"]) == (
        NEXT_DAY.isoformat(),
        False,
    )
