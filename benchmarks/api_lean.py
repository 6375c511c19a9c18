"""The same mix as ``benchmarks/api.py`` against the least it can cost in Python here.

``benchmarks/api_lean_app.py`` is a bare FastAPI app on uvicorn (two workers, as ``limitwise
serve``) that checks the bearer token and runs, straight through psycopg, only the SQL a
read (one statement) or a draw or repayment (nine, in one transaction) must run; the same
lean client drives 70% reads, 20% draws and 10% repayments at 1, 8 and 32 clients, then the
bare ``/v1/floor``. It answers one question: can two cores shared by client, server and
PostgreSQL serve the issue's 1,000 req/s at p99 ≤ 20 ms with any Python at all, and at what
CPU per request — the budget ``limitwise serve`` is measured against.

    PYTHONPATH=src python benchmarks/api_lean.py [--requests 3000] [--admin-url URL]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import psycopg

from api import CONCURRENCY, CpuMeter, free_port, measure, postgres
from api_lean_app import SCHEMA, SECRET

HERE = Path(__file__).resolve().parent
BORROWERS = max(CONCURRENCY)
ACCOUNTS = BORROWERS * 4


def load_book(url: str) -> list[tuple[str, list[str]]]:
    """Four accounts for each of the borrowers: (username, account refs)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute(
            "INSERT INTO acct SELECT g, 'acct_' || g, 'user' || (g %% %s), 5000000, 0, 'active'"
            " FROM generate_series(0, %s) g",
            (BORROWERS, ACCOUNTS - 1),
        )
        conn.execute("INSERT INTO ledger SELECT g, 0 FROM generate_series(0, %s) g", (ACCOUNTS,))
    return [
        (f"user{b}", [f"acct_{n}" for n in range(b, ACCOUNTS, BORROWERS)]) for b in range(BORROWERS)
    ]


def serve(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "api_lean_app:app", "--app-dir", str(HERE)]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    server = subprocess.Popen(command, env={**os.environ, "LEAN_DSN": url})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/floor", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the lean app did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=3000, help="per concurrency level")
    parser.add_argument("--admin-url", default=None)
    args = parser.parse_args()
    expires = time.time() + 3600
    with postgres(args.admin_url) as url:
        pairs = load_book(url)
        tokens = {
            user: "Bearer " + jwt.encode({"sub": user, "exp": expires}, SECRET, "HS256")
            for user, _ in pairs
        }
        port = free_port()
        server = serve(url, port, args.workers)
        try:
            meter = CpuMeter(server.pid, url.rsplit("/", 1)[1])
            rows = measure(port, meter, pairs, tokens, args.requests)
        finally:
            server.terminate()
            server.wait(timeout=20)
    print(f"bare FastAPI + psycopg, {args.workers} workers: the mix's least cost here")
    for clients, work, floor in rows:
        print(
            f"{clients:>3} clients: {work.per_second:,.0f} req/s, p50 {work.percentile(50):.1f}"
            f" ms, p99 {work.percentile(99):.1f} ms;"
            f" server {work.cpu_ms_per_request('server'):.2f}"
            f" + db {work.cpu_ms_per_request('postgres'):.2f} ms CPU/req;"
            f" errors {work.errors or 0};"
            f" floor {floor.per_second:,.0f} req/s ({work.per_second / floor.per_second:.2f}×)"
        )
    print("target at 8 clients: p99 ≤ 20 ms and ≥ 1,000 req/s")


if __name__ == "__main__":
    main()
