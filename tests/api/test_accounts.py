from limitwise.demo import DEMO_DATE

DRAW = {"amount_fen": 1000_00, "repayment_type": "daily", "term_months": 3}


def key(value: str, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": value}


def test_health_names_the_business_date(api):
    body = api.get("/v1/health").json()
    assert body == {"status": "ok", "version": body["version"], "business_date": str(DEMO_DATE)}


def test_staff_list_the_book_and_a_borrower_only_their_own(api, as_):
    staff = api.get("/v1/accounts", headers=as_["analyst"]).json()
    assert [a["ref"] for a in staff] == ["DEMO-001", "DEMO-002", "DEMO-003"]
    own = api.get("/v1/accounts", headers=as_["borrower2"]).json()
    assert [a["ref"] for a in own] == ["DEMO-002"]
    assert "draws" not in own[0]


def test_one_account_with_money_in_fen_nested_too(api, as_):
    one = api.get("/v1/accounts/DEMO-002", headers=as_["borrower2"]).json()
    assert one["line_fen"] == 30_000_00
    assert one["available_fen"] == one["line_fen"] - one["outstanding_principal_fen"]
    assert one["draws"] and one["apr"].endswith("%")
    draw = one["draws"][0]
    assert draw["amount_fen"] == 30_000_00 * 6 // 10
    assert isinstance(draw["outstanding_principal_fen"], int)
    row = draw["schedule"][0]
    assert row["total_fen"] == sum(
        row[k] for k in ("principal_fen", "interest_fen", "penalty_fen", "fee_fen")
    )
    assert sum(r["principal_fen"] for r in draw["schedule"]) == draw["amount_fen"]


def test_unknown_account_is_404_with_a_reason(api, as_):
    response = api.get("/v1/accounts/NOPE", headers=as_["analyst"])
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["field"] == "account"


def test_draw_is_idempotent_over_http(api, as_):
    me = as_["borrower"]
    before = api.get("/v1/accounts/DEMO-001", headers=me).json()["outstanding_principal_fen"]
    first = api.post("/v1/accounts/DEMO-001/draws", json=DRAW, headers=key("h1", me))
    assert first.status_code == 201, first.text
    again = api.post("/v1/accounts/DEMO-001/draws", json=DRAW, headers=key("h1", me))
    assert again.status_code == 201
    assert again.json() == first.json()
    after = api.get("/v1/accounts/DEMO-001", headers=me).json()["outstanding_principal_fen"]
    assert after == before + 1000_00
    other = {**DRAW, "amount_fen": 2000_00}
    conflict = api.post("/v1/accounts/DEMO-001/draws", json=other, headers=key("h1", me))
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_key_reused"
    assert api.get("/v1/ledger/trial-balance", headers=as_["analyst"]).json()["ok"] is True


def test_refusals_name_the_field_and_rule_and_change_nothing(api, as_):
    me = as_["borrower"]
    before = api.get("/v1/accounts/DEMO-001", headers=me).json()
    too_much = {**DRAW, "amount_fen": 99_999_999_00}
    refused = api.post("/v1/accounts/DEMO-001/draws", json=too_much, headers=key("x", me))
    assert refused.status_code == 422
    assert refused.json()["code"] == "exceeds_available_line"
    assert refused.json()["field"] == "amount"
    in_yuan = api.post(
        "/v1/accounts/DEMO-001/draws", json={**DRAW, "amount_fen": "10.50"}, headers=key("y", me)
    )
    assert in_yuan.status_code == 422
    assert in_yuan.json()["field"] == "amount_fen"
    assert in_yuan.json()["code"] == "int_type"
    no_key = api.post("/v1/accounts/DEMO-001/draws", json=DRAW, headers=me)
    assert no_key.status_code == 422
    assert no_key.json()["problems"][0]["field"].endswith("Idempotency-Key")
    garbage = api.post(
        "/v1/accounts/DEMO-001/draws",
        content=b"{not json",
        headers={**key("z", me), "Content-Type": "application/json"},
    )
    assert garbage.status_code == 400
    assert garbage.json()["field"] == "body"
    assert api.get("/v1/accounts/DEMO-001", headers=me).json() == before


def test_repayment_over_http(api, as_):
    me = as_["borrower"]
    before = api.get("/v1/accounts/DEMO-001", headers=me).json()
    paid = api.post(
        "/v1/accounts/DEMO-001/repayments", json={"amount_fen": 100_00}, headers=key("r", me)
    )
    assert paid.status_code == 201, paid.text
    assert sum(paid.json()["allocated_fen"].values()) + paid.json()["credit_balance_fen"] == 100_00
    after = api.get("/v1/accounts/DEMO-001", headers=me).json()
    owed = ("outstanding_principal_fen", "interest_receivable_fen", "penalty_receivable_fen")
    assert sum(before[k] for k in owed) - sum(after[k] for k in owed) == 100_00 - (
        after["credit_balance_fen"] - before["credit_balance_fen"]
    )


def test_events_of_an_account(api, as_):
    events = api.get("/v1/accounts/DEMO-001/events", headers=as_["borrower"]).json()
    assert {"drawn", "repaid"} <= {event["kind"] for event in events}


def test_cob_status_names_the_dates(api, as_):
    status = api.get("/v1/cob/status", headers=as_["analyst"]).json()
    assert status["business_date"] == str(DEMO_DATE)
    assert status["accounts"] == 3
    assert status["accounts_behind"] == 0


def test_openapi_schema_and_docs_are_served_locally(api):
    schema = api.get("/openapi.json").json()
    assert "/v1/accounts/{ref}/draws" in schema["paths"]
    docs = api.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and "static-offline-docs" in docs.text
    assert api.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200


def test_an_account_lists_its_open_draws_and_the_paid_off_ones_on_request(api, as_):
    me = as_["borrower2"]
    before = api.get("/v1/accounts/DEMO-002", headers=me).json()
    owed = sum(
        before[k]
        for k in ("outstanding_principal_fen", "interest_receivable_fen", "penalty_receivable_fen")
    )
    repaid = api.post(
        "/v1/accounts/DEMO-002/repayments",
        json={"amount_fen": owed + 1000_00},
        headers=key("all", me),
    )
    assert repaid.status_code == 201, repaid.text
    after = api.get("/v1/accounts/DEMO-002", headers=me).json()
    assert after["draws"] == []
    assert after["apr"] == before["apr"]  # of the latest draw, paid off or not
    history = api.get("/v1/accounts/DEMO-002", params={"paid_off": True}, headers=me).json()
    assert [d["key"] for d in history["draws"]] == [d["key"] for d in before["draws"]]
    assert {d["status"] for d in history["draws"]} == {"paid_off"}
    assert {k: v for k, v in history.items() if k != "draws"} == {
        k: v for k, v in after.items() if k != "draws"
    }
