"""Every error the server sends is RFC 9457 problem details, whatever went wrong."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from limitwise.api.app import create_app
from limitwise.api.problems import PROBLEM_JSON
from limitwise.kit.settings import Settings
from limitwise.policy.schemas import MAX_POLICY_SOURCE_CHARS
from tests.api.credentials import api_key

DRAW = {"amount_fen": 100_00, "repayment_type": "daily", "term_months": 3}


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    """A client holding a service key: a request reaches the rules of its body."""
    app = create_app(db_url, settings=Settings(max_body_bytes=10_000))
    _key_id, headers = api_key(app.state.engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(headers)
        yield client
    app.state.engine.dispose()


KEY = {"Idempotency-Key": "k1"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == f"urn:limitwise:problem:{code}"
    assert (body["status"], body["code"]) == (status, code)
    assert body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize(
    ("amount", "rule"),
    [
        ("100.00", "int_type"),
        (1.5, "int_type"),
        (True, "int_type"),
        ("１００", "int_type"),
        (0, "greater_than_equal"),
        (-5, "greater_than_equal"),
        (10**28, "less_than_equal"),
    ],
)
def test_amounts_that_are_not_fen_are_refused_by_rule(client, amount, rule):
    body = {**DRAW, "amount_fen": amount}
    response = client.post("/v1/accounts/A-1/draws", json=body, headers=KEY)
    problem = assert_problem(response, 422, rule)
    assert problem["field"] == "amount_fen"
    assert problem["problems"] == [
        {"field": "amount_fen", "rule": rule, "message": problem["problems"][0]["message"]}
    ]


def test_term_months_true_is_not_a_number(client):
    response = client.post(
        "/v1/accounts/A-1/draws", json={**DRAW, "term_months": True}, headers=KEY
    )
    assert assert_problem(response, 422, "int_type")["field"] == "term_months"


def test_a_nul_byte_in_a_ref_is_refused_not_a_500(client):
    response = client.get("/v1/accounts/A%00B")
    assert assert_problem(response, 422, "text_control_character")["field"] == "ref"


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe{}", b"[" * 100_000, b'{"amount_fen": ' + b"1" * 5000 + b"}"],
    ids=["invalid-utf8", "deep-nesting", "huge-integer"],
)
def test_bodies_that_cannot_be_read_are_400_problems(db_url, content):
    app = create_app(db_url)
    _key_id, headers = api_key(app.state.engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            "/v1/accounts/A-1/draws",
            content=content,
            headers={**headers, **KEY, "Content-Type": "application/json"},
        )
    app.state.engine.dispose()
    assert assert_problem(response, 400, "invalid_body")


def test_a_json_syntax_error_names_the_body_not_field_0(client):
    response = client.post(
        "/v1/accounts/A-1/draws",
        content=b"{not json",
        headers={**KEY, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 400, "invalid_body")
    assert body["field"] == "body"
    assert [p["field"] for p in body["problems"]] == ["body"]


def test_unknown_path_and_method_are_problems(client):
    assert assert_problem(client.get("/no/such/path"), 404, "not_found")["problems"] == []
    response = client.delete("/v1/accounts")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


def test_a_body_over_the_limit_is_413(client):
    response = client.post(
        "/v1/accounts/A-1/draws", json={**DRAW, "pad": "x" * 20_000}, headers=KEY
    )
    assert assert_problem(response, 413, "body_too_large")["field"] == "body"


def test_an_unexpected_failure_is_a_500_problem_without_a_traceback(client, monkeypatch):
    from limitwise.servicing import service

    def explode(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(service, "account_refs", explode)
    response = client.get("/v1/accounts")
    assert_problem(response, 500, "internal_error")
    assert "secret internals" not in response.text


def test_a_host_outside_the_allow_list_is_refused(client):
    body = assert_problem(
        client.get("/v1/health", headers={"Host": "evil.example"}), 400, "host_not_allowed"
    )
    assert body["field"] == "Host"
    assert "LIMITWISE_ALLOWED_HOSTS" in body["detail"]
    assert client.get("/v1/health", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    assert client.get("/v1/health", headers={"Host": "[::1]:8000"}).status_code == 200


def test_the_schema_documents_the_problem_shape_not_fastapi_validation_errors(client):
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    draw = schema["paths"]["/v1/accounts/{ref}/draws"]["post"]["responses"]
    for status in ("400", "401", "403", "404", "409", "413", "422", "429", "500", "503"):
        content = draw[status]["content"]
        assert content[PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_an_over_long_policy_source_is_refused_by_its_rule_not_by_the_body_limit(api, as_):
    """Even written as JSON escapes, one character more than a policy source may hold stays
    under the default body limit: the refusal names the field and its rule (schemathesis
    found the 413 that a 500,000-character limit let through)."""
    source = "\x01" * (MAX_POLICY_SOURCE_CHARS + 1)
    response = api.post("/v1/policies", json={"source_yaml": source}, headers=as_["admin"])
    body = assert_problem(response, 422, "string_too_long")
    assert [(p["field"], p["rule"]) for p in body["problems"]] == [
        ("source_yaml", "string_too_long")
    ]
