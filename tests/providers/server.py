"""A real HTTP provider service on 127.0.0.1 for adapter tests, run in a thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from limitwise.providers.registry import ProviderSources

#: A route answers a JSON query with (status, body bytes, seconds to wait first).
Route = Callable[[dict[str, Any]], tuple[int, bytes, float]]

PATHS = {
    "realname": "/realname/verify",
    "bureau": "/bureau/report",
    "income": "/income/verify",
    "vehicle": "/vehicle/check",
    "macro": "/macro/latest",
}


@dataclass
class ProviderServer:
    base_url: str
    routes: dict[str, Route] = field(default_factory=dict)
    queries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)

    def serve_sources(self, sources: ProviderSources) -> None:
        """Answer every path from the local adapters: the HTTP twin of the sample data."""
        for kind, path in PATHS.items():
            self.routes[path] = _from_source(getattr(sources, kind))

    def answer(self, path: str, status: int, body: Any, delay: float = 0.0) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.routes[path] = lambda _query: (status, payload, delay)


def _from_source(source: Any) -> Route:
    def route(query: dict[str, Any]) -> tuple[int, bytes, float]:
        record = source.fetch(query)
        if record is None:
            return 404, b'{"error": "no record"}', 0.0
        return 200, json.dumps(record, ensure_ascii=False).encode(), 0.0

    return route


@contextmanager
def running_server() -> Iterator[ProviderServer]:
    state = ProviderServer(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            query = json.loads(self.rfile.read(length) or b"{}")
            state.queries.append((self.path, query))
            state.authorizations.append(self.headers.get("Authorization"))
            route = state.routes.get(self.path)
            status, body, delay = route(query) if route else (404, b"{}", 0.0)
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
