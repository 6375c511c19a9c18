"""The HTTP API under a mixed workload, on PostgreSQL over loopback, with auth.

``limitwise serve`` runs in its own processes on a demo book; clients (httpx, async) send
70% account reads, 20% draws and 10% repayments, each a borrower with a bearer token on
their own account, so every request resolves and authorizes its principal. The same
number of requests then goes to ``/v1/floor`` on the same server: a route that does no
work (no auth, no database), the framework's floor. Both are printed for 1, 8 and 32
concurrent clients, with their ratio. The client shares the machine's cores with the
server and PostgreSQL, so it is lean: asyncio streams on kept-alive connections, each
request's bytes built before the clock starts, no HTTP library on the hot path.

    PYTHONPATH=src python benchmarks/api.py [--workers 2] [--requests 3000] [--admin-url URL]

Without ``--admin-url`` it uses PostgreSQL on 127.0.0.1:5432 or starts a throw-away one
(``tests/pgserver.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.pgserver, the throw-away PostgreSQL the tests use

from tests import pgserver  # noqa: E402
from tests.net import free_port  # noqa: E402

from limitwise.auth import service as auth  # noqa: E402
from limitwise.auth.schemas import Role, UserCreate  # noqa: E402
from limitwise.demo import run_demo  # noqa: E402
from limitwise.kit.clock import Clock  # noqa: E402
from limitwise.kit.db import make_engine, unit_of_work  # noqa: E402

CONCURRENCY = (1, 8, 32)
#: Each borrower holds this many accounts and spreads its requests over them.
ACCOUNTS_PER_BORROWER = 4
MIX = (("read", 70), ("draw", 20), ("repay", 10))
PASSWORD = "bench-password"
SEED = 20261203


@dataclass(frozen=True)
class Figures:
    requests: int
    seconds: float
    latencies_ms: list[float]
    #: Unexpected answers by status code.
    errors: dict[int, int]
    #: Latencies by kind of request (read, draw, repay; floor).
    by_kind_ms: dict[str, list[float]]
    #: CPU seconds spent meanwhile by the server's processes and the database's backends.
    cpu_seconds: dict[str, float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: int, kind: str | None = None) -> float:
        values = self.latencies_ms if kind is None else self.by_kind_ms[kind]
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

    def cpu_ms_per_request(self, who: str) -> float:
        return self.cpu_seconds[who] * 1000 / self.requests


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuMeter:
    """CPU seconds used so far by the server (its process and worker processes) and by the
    PostgreSQL backends connected to its database, read from Linux's /proc: what each
    request costs, whatever else the machine is doing. A backend that exits takes its
    CPU time with it (pool overflow connections), so ``postgres`` is a lower bound."""

    server_pid: int
    database: str

    def sample(self) -> dict[str, float]:
        used = {"server": 0.0, "postgres": 0.0}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            seconds = (int(stat[11]) + int(stat[12])) / CLOCK_TICKS  # utime + stime
            if self.server_pid in (int(entry.name), int(stat[1])):
                used["server"] += seconds
            elif cmdline.startswith(b"postgres: ") and f" {self.database} ".encode() in cmdline:
                used["postgres"] += seconds
        return used


#: A kind of request (read, draw, repay; floor) and its bytes on the wire.
Request = tuple[str, bytes]


@contextmanager
def postgres(admin_url: str | None) -> Iterator[str]:
    server = pgserver.PgServer(admin_url) if admin_url else pgserver.find_server()
    if server is None:
        raise SystemExit("no PostgreSQL reachable or startable: pass --admin-url")
    name = f"lw_bench_api_{uuid.uuid4().hex[:8]}"
    url = pgserver.create_database(server, name)
    try:
        yield url
    finally:
        pgserver.drop_database(server, name)
        server.stop()


def borrowers(url: str, clients: int) -> list[tuple[str, list[str]]]:
    """(username, account refs) of one borrower per client, each holding demo accounts."""
    accounts = clients * ACCOUNTS_PER_BORROWER
    assert run_demo(url, accounts=accounts, console=Console(file=io.StringIO())) == 0
    engine = make_engine(url)
    pairs = [
        (f"bench{i:02d}", [f"DEMO-{n + 1:03d}" for n in range(i, accounts, clients)])
        for i in range(clients)
    ]
    with unit_of_work(engine) as session:
        for username, refs in pairs:
            spec = UserCreate(
                username=username, password=PASSWORD, role=Role.BORROWER, account_refs=refs
            )
            auth.create_user(session, Clock.system(), spec=spec)
    engine.dispose()
    return pairs


@contextmanager
def served(url: str, workers: int) -> Iterator[tuple[int, int]]:
    """``limitwise serve`` on a free port, once it answers ready: (port, process id)."""
    port = free_port()
    env = {
        **os.environ,
        "LIMITWISE_ENV": "dev",
        "LIMITWISE_RATE_LIMIT": "1000000000/minute",
        "LIMITWISE_ACCESS_TOKEN_MINUTES": "120",
    }
    command = ["serve", "--db", url, "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(
        [sys.executable, "-m", "limitwise", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/v1/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(server.stderr.read().decode() if server.stderr else "no server")
            time.sleep(0.2)
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=20)


def login(port: int, username: str) -> str:
    """The borrower's ``Authorization`` header value."""
    form = {"grant_type": "password", "username": username, "password": PASSWORD}
    url = f"http://127.0.0.1:{port}/v1/auth/token"
    token = httpx.post(url, data=form).json()["access_token"]
    return f"Bearer {token}"


def wire(method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None) -> bytes:
    """An HTTP/1.1 request as bytes, built before the clock starts."""
    payload = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def mixed_request(rng: random.Random, ref: str, authorization: str) -> Request:
    """One request of the mix for the borrower of ``ref``: draws of the product's minimum
    (100 yuan) and repayments of twice that, so on average the lines neither fill nor
    empty over the run."""
    kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
    headers = {"Authorization": authorization}
    if kind == "read":
        return kind, wire("GET", f"/v1/accounts/{ref}", headers, None)
    headers["Idempotency-Key"] = uuid.UUID(int=rng.getrandbits(128)).hex
    if kind == "draw":
        body = {"amount_fen": 100_00, "repayment_type": "daily", "term_months": 3}
        return kind, wire("POST", f"/v1/accounts/{ref}/draws", headers, body)
    return kind, wire("POST", f"/v1/accounts/{ref}/repayments", headers, {"amount_fen": 200_00})


FLOOR: Request = ("floor", wire("GET", "/v1/floor", {}, None))


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one request on a kept-alive connection and read its whole answer: its status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = CONTENT_LENGTH.search(head)
    await reader.readexactly(int(length.group(1)) if length else 0)
    return status


CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")


async def drive(
    port: int, plans: list[list[Request]], expect: set[int], meter: CpuMeter
) -> Figures:
    """Each client sends its planned requests one after another on its own kept-alive
    connection; all clients at once. A lean client (bytes built in advance, no HTTP
    library) so that the server gets the CPU the two share."""
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors: dict[int, int] = {}

    async def client(plan: list[Request]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for kind, request in plan:
                started = time.perf_counter()
                status = await exchange(reader, writer, request)
                elapsed_ms = (time.perf_counter() - started) * 1000
                latencies.append(elapsed_ms)
                by_kind.setdefault(kind, []).append(elapsed_ms)
                if status not in expect:
                    errors[status] = errors.get(status, 0) + 1
        finally:
            writer.close()

    cpu_before = meter.sample()
    started = time.perf_counter()
    await asyncio.gather(*(client(plan) for plan in plans))
    seconds = time.perf_counter() - started
    cpu = {who: used - cpu_before[who] for who, used in meter.sample().items()}
    return Figures(len(latencies), seconds, latencies, errors, by_kind, cpu)


def measure(
    port: int,
    meter: CpuMeter,
    pairs: list[tuple[str, list[str]]],
    tokens: dict[str, str],
    total: int,
) -> list[tuple[int, Figures, Figures]]:
    rows = []
    rng = random.Random(SEED)
    for clients in CONCURRENCY:
        per_client = max(50, total // clients)
        plans = [
            [mixed_request(rng, rng.choice(refs), tokens[user]) for _ in range(per_client)]
            for user, refs in pairs[:clients]
        ]
        floor_plans = [[FLOOR] * per_client for _ in range(clients)]
        asyncio.run(drive(port, [plan[:20] for plan in floor_plans], {200}, meter))  # warm up
        workload = asyncio.run(drive(port, plans, {200, 201}, meter))
        floor = asyncio.run(drive(port, floor_plans, {200}, meter))
        rows.append((clients, workload, floor))
    return rows


def report(rows: list[tuple[int, Figures, Figures]], workers: int) -> None:
    table = Table(
        title=f"limitwise serve --workers {workers}, PostgreSQL over loopback: "
        "70% reads / 20% draws / 10% repayments, with auth, vs the floor"
    )
    for column in (
        "clients",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "read p50",
        "draw p50",
        "repay p50",
        "errors",
        "server CPU ms/req",
        "db CPU ms/req",
        "floor req/s",
        "floor p50",
        "floor p99",
        "req/s ÷ floor",
    ):
        table.add_column(column, justify="right")
    for clients, work, floor in rows:
        table.add_row(
            str(clients),
            str(work.requests),
            f"{work.per_second:,.0f}",
            f"{work.percentile(50):.1f}",
            f"{work.percentile(99):.1f}",
            f"{work.percentile(50, 'read'):.1f}",
            f"{work.percentile(50, 'draw'):.1f}",
            f"{work.percentile(50, 'repay'):.1f}",
            ", ".join(f"{n}× {code}" for code, n in sorted(work.errors.items())) or "0",
            f"{work.cpu_ms_per_request('server'):.2f}",
            f"{work.cpu_ms_per_request('postgres'):.2f}",
            f"{floor.per_second:,.0f}",
            f"{floor.percentile(50):.1f}",
            f"{floor.percentile(99):.1f}",
            f"{work.per_second / floor.per_second:.2f}",
        )
    Console(width=220).print(table)
    Console().print("target at 8 clients: p99 ≤ 20 ms and ≥ 1,000 req/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=1000, help="per concurrency level")
    parser.add_argument("--admin-url", default=None)
    args = parser.parse_args()
    with postgres(args.admin_url) as url:
        pairs = borrowers(url, max(CONCURRENCY))
        with served(url, args.workers) as (port, pid):
            tokens = {user: login(port, user) for user, _ in pairs}
            meter = CpuMeter(pid, url.rsplit("/", 1)[1])
            rows = measure(port, meter, pairs, tokens, args.requests)
    report(rows, args.workers)


if __name__ == "__main__":
    main()
