"""A draw's schedule is a resource of its own: each instalment in fen with its state on the
business date, for the holder, staff and services; a draw of another account is not found."""

from __future__ import annotations

from limitwise.demo import DEMO_DATE
from tests.api.test_accounts import key

EQUAL_PRINCIPAL = {"amount_fen": 3000_00, "repayment_type": "equal_principal", "term_months": 3}


def _schedule_url(ref: str, draw_ref: str) -> str:
    return f"/v1/accounts/{ref}/draws/{draw_ref}/schedule"


def test_a_new_draws_schedule_in_fen_with_states(api, as_):
    me = as_["borrower"]
    receipt = api.post("/v1/accounts/DEMO-001/draws", json=EQUAL_PRINCIPAL, headers=key("s", me))
    assert receipt.status_code == 201, receipt.text
    url = _schedule_url("DEMO-001", receipt.json()["ref"])
    schedule = api.get(url, headers=me)
    assert schedule.status_code == 200, schedule.text
    body = schedule.json()
    assert (body["account"], body["as_of"], body["amount_fen"]) == (
        "DEMO-001",
        str(DEMO_DATE),
        3000_00,
    )
    rows = body["schedule"]
    # 等额本金: the principal in three equal parts, nothing due or paid yet
    assert [r["principal_fen"] for r in rows] == [1000_00] * 3
    assert [(r["state"], r["paid_fen"]) for r in rows] == [("not_due", 0)] * 3
    assert str(DEMO_DATE) < rows[0]["due_date"] < rows[1]["due_date"] < rows[2]["due_date"]
    account = api.get("/v1/accounts/DEMO-001", headers=me).json()
    nested = next(d for d in account["draws"] if d["ref"] == body["ref"])
    assert nested["schedule"] == rows
    for reader in ("analyst", "admin", "service"):
        assert api.get(url, headers=as_[reader]).json() == body


def test_an_instalment_is_overdue_or_due_exactly_when_the_account_owes_something_due(api, as_):
    for ref in ("DEMO-001", "DEMO-002", "DEMO-003"):
        account = api.get(f"/v1/accounts/{ref}", headers=as_["analyst"]).json()
        states = [
            api.get(_schedule_url(ref, draw["ref"]), headers=as_["analyst"]).json()["schedule"]
            for draw in account["draws"]
        ]
        owing = {r["state"] for rows in states for r in rows} & {"overdue", "due"}
        assert bool(owing) == (account["due_total_fen"] > 0), (ref, account, states)
        for rows in states:
            for row in rows:
                if row["due_date"] < str(DEMO_DATE):
                    assert row["state"] in {"paid", "overdue"}, row
                if row["due_date"] > str(DEMO_DATE) and row["paid_fen"] < row["total_fen"]:
                    assert row["state"] == "not_due", row


def test_a_draw_of_another_account_is_not_found(api, as_):
    other = api.get("/v1/accounts/DEMO-002", headers=as_["analyst"]).json()["draws"][0]["ref"]
    response = api.get(_schedule_url("DEMO-001", other), headers=as_["borrower"])
    assert response.status_code == 404, response.text
    assert (response.json()["code"], response.json()["field"]) == ("not_found", "draw")
    missing = api.get(_schedule_url("DEMO-001", "drw_nope"), headers=as_["analyst"])
    assert (missing.status_code, missing.json()["field"]) == (404, "draw")
