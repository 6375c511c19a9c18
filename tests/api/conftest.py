"""A real uvicorn server in a thread, serving the demo book, on a free localhost port."""

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
from limitwise.demo import run_demo
from tests.net import free_port


@pytest.fixture
def api_app(db_url: str) -> Iterator[FastAPI]:
    """The application serving a demo book of three accounts (its engine is
    ``app.state.engine``)."""
    assert run_demo(db_url, accounts=3, console=Console(file=io.StringIO())) == 0
    app = create_app(db_url)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def api(api_app: FastAPI) -> Iterator[httpx.Client]:
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
        yield client
    server.should_exit = True
    thread.join(timeout=10)
