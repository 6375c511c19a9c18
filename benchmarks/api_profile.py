"""Where one API request spends its time: how many SQL statements, and how long in them.

Builds the same book as ``benchmarks/api.py`` on PostgreSQL, then calls the app in
process (Starlette's test client: no server, no network) for each kind of request of the
mix (a read, a draw, a repayment; the floor) and prints, per kind, the statements it ran
with their time, the request's wall time against the time spent in the database, and the
CPU time of this process per request.
For where the Python time goes, sample it with py-spy (``--threads``: the app runs in the
test client's threads) while ``--only KIND`` repeats one kind of request:

    PYTHONPATH=src python benchmarks/api_profile.py [--show-sql] [--only read --repeat 500]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from api import PASSWORD, borrowers, postgres  # noqa: E402
from limitwise.api.app import create_app  # noqa: E402


@dataclass
class Statements:
    """The statements run while it is active, each with its time in ms."""

    timings: list[tuple[str, float]] = field(default_factory=list)
    _started: dict[int, float] = field(default_factory=dict)

    @property
    def sql_ms(self) -> float:
        return sum(ms for _, ms in self.timings)


@contextmanager
def counting(engine: Engine) -> Iterator[Statements]:
    found = Statements()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        found._started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started = found._started.pop(id(cursor), time.perf_counter())
        found.timings.append((statement, (time.perf_counter() - started) * 1000))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def requests_of(
    http: TestClient, ref: str, headers: dict[str, str]
) -> dict[str, Callable[[], Any]]:
    def draw() -> Any:
        body = {"amount_fen": 100_00, "repayment_type": "daily", "term_months": 3}
        key = {"Idempotency-Key": uuid.uuid4().hex}
        return http.post(f"/v1/accounts/{ref}/draws", json=body, headers=headers | key)

    def repay() -> Any:
        key = {"Idempotency-Key": uuid.uuid4().hex}
        body = {"amount_fen": 200_00}
        return http.post(f"/v1/accounts/{ref}/repayments", json=body, headers=headers | key)

    return {
        "floor": lambda: http.get("/v1/floor"),
        "read": lambda: http.get(f"/v1/accounts/{ref}", headers=headers),
        "draw": draw,
        "repay": repay,
    }


def cpu_ms_per_request(send: Callable[[], Any], repeat: int) -> float:
    """This process's CPU time per request (the app, its driver and the test client),
    over ``repeat`` requests: what a request costs whatever else the machine runs."""
    started = time.process_time()
    for _ in range(repeat):
        send()
    return (time.process_time() - started) * 1000 / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show-sql", action="store_true")
    parser.add_argument("--repeat", type=int, default=50, help="requests per kind for CPU")
    parser.add_argument("--admin-url", default=None)
    parser.add_argument("--only", choices=["floor", "read", "draw", "repay"], default=None)
    args = parser.parse_args()
    os.environ.setdefault("LIMITWISE_RATE_LIMIT", "1000000/minute")  # profiling, not limits
    with postgres(args.admin_url) as url:
        (username, refs), *_ = borrowers(url, 1)
        app = create_app(url)
        engine = app.state.engine
        with TestClient(app) as http:
            form = {"grant_type": "password", "username": username, "password": PASSWORD}
            token = http.post("/v1/auth/token", data=form).json()["access_token"]
            kinds = requests_of(http, refs[0], {"Authorization": f"Bearer {token}"})
            for send in kinds.values():  # warm up: caches, prepared plans
                for _ in range(5):
                    send()
            if args.only:
                kinds = {args.only: kinds[args.only]}
            for kind, send in kinds.items():
                with counting(engine) as found:
                    started = time.perf_counter()
                    response = send()
                    wall_ms = (time.perf_counter() - started) * 1000
                cpu_ms = cpu_ms_per_request(send, args.repeat)
                print(
                    f"{kind:6} {response.status_code}: {len(found.timings):3d} statements, "
                    f"{found.sql_ms:6.2f} ms in the database of {wall_ms:6.2f} ms; "
                    f"{cpu_ms:6.2f} ms of this process's CPU per request"
                )
                if args.show_sql:
                    for statement, ms in found.timings:
                        print(f"    {ms:6.2f} ms  {' '.join(statement.split())[:150]}")
        engine.dispose()


if __name__ == "__main__":
    main()
