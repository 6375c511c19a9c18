"""One running server across a close of business: it reads the stored business date for
every request, so after `cob run` closes day D the next draw and repayment are on D+1 (the
server used to keep the date it started with: the draw was refused and the repayment
replayed the account as backdated)."""

import datetime as dt

from typer.testing import CliRunner

from limitwise.cli import app
from limitwise.demo import DEMO_DATE

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
