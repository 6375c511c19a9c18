"""schemathesis against a live ``limitwise serve`` on a demo book: no 5xx, and every
response conforms to the OpenAPI schema (status, content type, body)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from limitwise.auth.schemas import Scope
from tests.api.conftest import login
from tests.net import free_port

#: Examples per generation mode over all operations: small enough for CI (well under 60 s).
MAX_EXAMPLES = 150
#: An invalid body may also be refused for its size (413, before it is parsed): a rejection,
#: which schemathesis's default list for negative data leaves out.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
            }
        }
    }
)


def _limitwise(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LIMITWISE_ENV": "dev"}
    return subprocess.run(
        [sys.executable, "-m", "limitwise", *args], capture_output=True, text=True, env=env
    )


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = f"sqlite:///{Path(tmp_path_factory.mktemp('schemathesis')) / 'book.db'}"
    demo = _limitwise("demo", "--db", db, "--accounts", "2")
    assert demo.returncode == 0, demo.stderr
    port = free_port()
    serve = ["serve", "--db", db, "--port", str(port)]
    server = subprocess.Popen(
        [sys.executable, "-m", "limitwise", *serve],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "LIMITWISE_ENV": "dev", "LIMITWISE_RATE_LIMIT": "100000/minute"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/v1/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def _credentials(base: str) -> tuple[dict[str, str], dict[str, str]]:
    """(the demo admin's bearer header, the header of a service key with every scope)."""
    with httpx.Client(base_url=base) as client:
        admin = login(client, "admin")
        created = client.post(
            "/v1/api-keys",
            json={"name": "schemathesis", "scopes": [s.value for s in Scope]},
            headers=admin,
        )
        assert created.status_code == 201, created.text
    return admin, {"X-API-Key": created.json()["key"]}


def test_the_live_api_conforms_to_its_schema(live_server: str) -> None:
    """Positive then negative examples, in one test so one server (one demo book) serves
    both, also under xdist. Account, application and book routes are called with a service
    key, the rest as the admin."""
    schema = schemathesis.openapi.from_url(f"{live_server}/openapi.json", config=CONFIG)
    admin, service = _credentials(live_server)
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @given(case=schema.as_strategy(generation_mode=mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call_and_validate(case: Case) -> None:
            # A schema-valid draw may still break a business rule (over the line, a term
            # the product does not offer): a 422 refusal, not a schema violation.
            as_service = case.path.startswith(
                ("/v1/accounts", "/v1/applications", "/v1/ledger", "/v1/cob")
            )
            case.call_and_validate(
                headers=service if as_service else admin,
                excluded_checks=[positive_data_acceptance],
            )

        call_and_validate()
