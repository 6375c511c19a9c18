from limitwise.demo import DEMO_DATE

DRAW = {"amount": "1000.00", "repayment_type": "daily", "term_months": 3}


def test_health_names_the_business_date(api):
    body = api.get("/health").json()
    assert body == {"status": "ok", "version": body["version"], "business_date": str(DEMO_DATE)}


def test_accounts_and_one_account(api):
    accounts = api.get("/accounts").json()
    assert [a["ref"] for a in accounts] == ["DEMO-001", "DEMO-002", "DEMO-003"]
    one = api.get("/accounts/DEMO-002").json()
    assert one["line_fen"] == 30_000_00
    assert one["available_fen"] == one["line_fen"] - one["outstanding_principal_fen"]
    assert one["draws"] and one["apr"].endswith("%")


def test_unknown_account_is_404_with_a_reason(api):
    response = api.get("/accounts/NOPE")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["field"] == "account"


def test_draw_is_idempotent_over_http(api):
    before = api.get("/accounts/DEMO-001").json()["outstanding_principal_fen"]
    first = api.post("/accounts/DEMO-001/draws", json=DRAW, headers={"Idempotency-Key": "h1"})
    assert first.status_code == 201, first.text
    again = api.post("/accounts/DEMO-001/draws", json=DRAW, headers={"Idempotency-Key": "h1"})
    assert again.status_code == 201
    assert again.json() == first.json()
    after = api.get("/accounts/DEMO-001").json()["outstanding_principal_fen"]
    assert after == before + 1000_00
    other = {**DRAW, "amount": "2000.00"}
    conflict = api.post("/accounts/DEMO-001/draws", json=other, headers={"Idempotency-Key": "h1"})
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_key_reused"
    assert api.get("/ledger/trial-balance").json()["ok"] is True


def test_refusals_name_the_field_and_rule_and_change_nothing(api):
    before = api.get("/accounts/DEMO-001").json()
    too_much = {**DRAW, "amount": "99999999.00"}
    refused = api.post("/accounts/DEMO-001/draws", json=too_much, headers={"Idempotency-Key": "x"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "exceeds_available_line"
    assert refused.json()["field"] == "amount"
    as_float = api.post(
        "/accounts/DEMO-001/draws", json={**DRAW, "amount": 10.5}, headers={"Idempotency-Key": "y"}
    )
    assert as_float.status_code == 422
    assert as_float.json()["field"] == "amount"
    assert as_float.json()["code"] == "amount_not_decimal"
    no_key = api.post("/accounts/DEMO-001/draws", json=DRAW)
    assert no_key.status_code == 422
    assert no_key.json()["problems"][0]["field"].endswith("Idempotency-Key")
    garbage = api.post(
        "/accounts/DEMO-001/draws",
        content=b"{not json",
        headers={"Idempotency-Key": "z", "Content-Type": "application/json"},
    )
    assert garbage.status_code == 400
    assert garbage.json()["field"] == "body"
    assert api.get("/accounts/DEMO-001").json() == before


def test_repayment_over_http(api):
    before = api.get("/accounts/DEMO-001").json()
    paid = api.post(
        "/accounts/DEMO-001/repayments", json={"amount": "100.00"}, headers={"Idempotency-Key": "r"}
    )
    assert paid.status_code == 201, paid.text
    assert sum(paid.json()["allocated_fen"].values()) + paid.json()["credit_balance_fen"] == 100_00
    after = api.get("/accounts/DEMO-001").json()
    owed = ("outstanding_principal_fen", "interest_receivable_fen", "penalty_receivable_fen")
    assert sum(before[k] for k in owed) - sum(after[k] for k in owed) == 100_00 - (
        after["credit_balance_fen"] - before["credit_balance_fen"]
    )


def test_openapi_schema_is_local_and_cdn_pages_are_off(api):
    schema = api.get("/openapi.json").json()
    assert "/accounts/{ref}/draws" in schema["paths"]
    assert api.get("/docs").status_code == 404
