"""Ledger transfers/s on SQLite and PostgreSQL, 1 and 4 concurrent clients, with baselines.

Each client is its own process posting two-leg transfers between random accounts (one
transaction each) for a fixed time. The baseline does the same writes with the raw driver
(lock both accounts in id order, insert the entry and its two legs with running balances,
update both balances, commit) and no ORM, validation or idempotency, so the ratio shows what
limitwise's ledger costs over the bare minimum. A "hot account" row posts every transfer
against one lender account, the shape of draws against a single funding account.

    python benchmarks/ledger_transfers.py [--seconds 3] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import random
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from threading import Barrier

import psycopg

from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.ledger import service as ledger
from limitwise.ledger.idempotency import run_idempotent
from limitwise.ledger.models import AccountKind
from limitwise.ledger.schemas import PostedEntry

ACCOUNTS = 200
CLOCK = Clock.fixed(dt.date(2026, 1, 5))
HOT = "bench:hot"


def account_code(i: int) -> str:
    return f"bench:{i}"


def prepare(url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        for code in [*(account_code(i) for i in range(ACCOUNTS)), HOT]:
            ledger.open_account(session, CLOCK, code=code, kind=AccountKind.ASSET, purpose="bench")
    engine.dispose()


def pick_pair(rng: random.Random, hot: bool) -> tuple[int, int]:
    a = rng.randrange(ACCOUNTS)
    if hot:
        return a, -1
    b = rng.randrange(ACCOUNTS - 1)
    return a, b + (b >= a)


def timed_loop(step: Callable[[int], None], seconds: float, start: Barrier) -> int:
    """Warm up once, wait for every client, then run ``step`` for ``seconds``."""
    step(-1)
    start.wait()
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        step(done)
        done += 1
    return done


def limitwise_client(
    url: str, seconds: float, seed: int, hot: bool, keyed: bool, start: Barrier
) -> int:
    engine = make_engine(url)
    rng = random.Random(seed)

    def step(n: int) -> None:
        a, b = pick_pair(rng, hot)
        debit, credit = account_code(a), HOT if b < 0 else account_code(b)
        amount = rng.randrange(1, 10_000)
        with unit_of_work(engine) as session:

            def post() -> PostedEntry:
                return ledger.transfer(
                    session, CLOCK, debit_code=debit, credit_code=credit, amount_fen=amount
                )

            if keyed:
                run_idempotent(
                    session,
                    CLOCK,
                    key=f"{seed}-{n}",
                    command="transfer",
                    request={"debit": debit, "credit": credit, "amount_fen": amount},
                    action=post,
                    dump=PostedEntry.to_dict,
                    load=PostedEntry.from_dict,
                )
            else:
                post()

    done = timed_loop(step, seconds, start)
    engine.dispose()
    return done


class RawLedger:
    """The bare two-leg posting through the raw driver: what any correct ledger must write."""

    def __init__(self, url: str) -> None:
        self.postgres = url.startswith("postgresql")
        if self.postgres:
            self.conn: psycopg.Connection | sqlite3.Connection = psycopg.connect(url)
            param, lock = "%s", " FOR UPDATE"
        else:
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            for pragma in ("busy_timeout=30000", "journal_mode=WAL", "synchronous=NORMAL"):
                self.conn.execute(f"PRAGMA {pragma}")
            param, lock = "?", ""
        self.lock_sql = (
            f"SELECT id, code, balance_fen FROM ledger_accounts WHERE code IN ({param}, {param}) "
            f"ORDER BY id{lock}"
        )
        self.entry_sql = (
            "INSERT INTO journal_entries (entry_ref, kind, effective_date, posted_at, description) "
            f"VALUES ({param}, 'transfer', {param}, {param}, '') RETURNING id"
        )
        self.leg_sql = (
            "INSERT INTO journal_legs (entry_id, account_id, amount_fen, balance_after_fen) "
            f"VALUES ({param}, {param}, {param}, {param})"
        )
        self.update_sql = f"UPDATE ledger_accounts SET balance_fen = {param} WHERE id = {param}"

    def transfer(self, debit: str, credit: str, amount: int) -> None:
        cur = self.conn.cursor()
        if not self.postgres:
            cur.execute("BEGIN IMMEDIATE")
        cur.execute(self.lock_sql, (debit, credit))
        accounts = {code: [account_id, balance] for account_id, code, balance in cur.fetchall()}
        cur.execute(self.entry_sql, (uuid.uuid4().hex, CLOCK.today().isoformat(), CLOCK.now()))
        entry_id = cur.fetchone()[0]  # type: ignore[index]
        for code, signed in ((debit, amount), (credit, -amount)):
            account = accounts[code]
            account[1] += signed
            cur.execute(self.leg_sql, (entry_id, account[0], signed, account[1]))
            cur.execute(self.update_sql, (account[1], account[0]))
        if self.postgres:
            self.conn.commit()
        else:
            cur.execute("COMMIT")


def raw_client(url: str, seconds: float, seed: int, hot: bool, keyed: bool, start: Barrier) -> int:
    raw = RawLedger(url)
    rng = random.Random(seed)

    def step(_: int) -> None:
        a, b = pick_pair(rng, hot)
        raw.transfer(account_code(a), HOT if b < 0 else account_code(b), rng.randrange(1, 10_000))

    done = timed_loop(step, seconds, start)
    raw.conn.close()
    return done


Client = Callable[[str, float, int, bool, bool, Barrier], int]


def run_clients(
    client: Client, url: str, clients: int, seconds: float, hot: bool, keyed: bool
) -> float:
    """Transfers per second over ``clients`` processes running side by side."""
    seeds = [random.randrange(10**9) for _ in range(clients)]
    context = mp.get_context("spawn")
    with context.Manager() as manager, context.Pool(clients) as pool:
        start = manager.Barrier(clients)
        counts = pool.starmap(client, [(url, seconds, s, hot, keyed, start) for s in seeds])
    return sum(counts) / seconds


def bench_backend(name: str, url: str, seconds: float) -> list[tuple[str, ...]]:
    prepare(url)
    rows = []
    for clients in (1, 4):
        for hot in (False, True):
            baseline = run_clients(raw_client, url, clients, seconds, hot, False)
            plain = run_clients(limitwise_client, url, clients, seconds, hot, False)
            keyed = run_clients(limitwise_client, url, clients, seconds, hot, True)
            rows.append(
                (
                    name,
                    str(clients),
                    "one hot account" if hot else "random pairs",
                    f"{baseline:,.0f}",
                    f"{plain:,.0f}",
                    f"{plain / baseline:.2f}x",
                    f"{keyed:,.0f}",
                    f"{keyed / baseline:.2f}x",
                )
            )
    return rows


def create_pg_database(admin_url: str) -> tuple[str, str] | None:
    name = f"lw_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL skipped: cannot reach {admin_url}: {exc}")
        return None
    return name, admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_backend("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args.seconds)
    created = create_pg_database(args.pg)
    if created is not None:
        name, url = created
        try:
            rows += bench_backend("postgresql", url, args.seconds)
        finally:
            drop_pg_database(args.pg, name)
    header = (
        "backend",
        "clients",
        "accounts",
        "raw driver/s",
        "limitwise/s",
        "ratio",
        "with idem. key/s",
        "ratio",
    )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
