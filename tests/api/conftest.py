"""A real uvicorn server in a thread, serving the demo book, on a free localhost port."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from rich.console import Console

from limitwise.api.app import create_app
from limitwise.demo import run_demo
from tests.net import free_port


@pytest.fixture
def api(db_url: str) -> Iterator[httpx.Client]:
    assert run_demo(db_url, accounts=3, console=Console(file=io.StringIO())) == 0
    app = create_app(db_url)
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
    app.state.engine.dispose()
