"""A real uvicorn server in a thread, serving the demo book, on a free localhost port, and
the credentials of each role on it."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from rich.console import Console

from limitwise.api.app import create_app
from limitwise.demo import DEMO_LOGINS, run_demo
from tests.api.credentials import api_key
from tests.net import free_port

DEMO_PASSWORDS = {username: password for username, password, _ in DEMO_LOGINS}


@pytest.fixture
def api_app(db_url: str) -> Iterator[FastAPI]:
    """The application serving a demo book of three accounts (its engine is
    ``app.state.engine``)."""
    assert run_demo(db_url, accounts=3, console=Console(file=io.StringIO())) == 0
    app = create_app(db_url)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def served(api_app: FastAPI) -> Iterator[tuple[httpx.Client, dict[str, dict[str, str]]]]:
    app = api_app
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        headers = {name: login(client, name) for name in DEMO_PASSWORDS}
        headers["service"] = api_key(app.state.engine)[1]
        yield client, headers
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def api(served: tuple[httpx.Client, dict[str, dict[str, str]]]) -> httpx.Client:
    return served[0]


@pytest.fixture
def as_(served: tuple[httpx.Client, dict[str, dict[str, str]]]) -> dict[str, dict[str, str]]:
    """Headers by role on the demo book: ``admin``, ``analyst``, ``borrower`` (holds
    DEMO-001), ``borrower2`` (holds DEMO-002) and ``service`` (an API key, every scope)."""
    return served[1]


def login(client: httpx.Client, username: str, password: str | None = None) -> dict[str, str]:
    response = client.post(
        "/v1/auth/token",
        data={
            "grant_type": "password",
            "username": username,
            "password": password or DEMO_PASSWORDS[username],
        },
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
