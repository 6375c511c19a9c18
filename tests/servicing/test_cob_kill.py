"""``kill -9`` during a set-based close of business loses nothing and applies nothing
twice: ``cob run`` is killed at random moments, several times over, then run to the end;
the final book equals that of a run never interrupted (on SQLite and PostgreSQL).

Each partition is one transaction that closes its accounts' days and marks itself done, so
a kill leaves the partition in flight exactly as it was, and the rerun claims it again.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, normalise_url, unit_of_work
from limitwise.servicing import service
from tests.servicing.book_dump import dump_book, first_difference
from tests.servicing.helpers import open_book

OPENED = dt.date(2026, 1, 5)
THROUGH = dt.date(2026, 3, 20)  # 75 days: through two due dates, into every bucket
TYPES = ["daily", "equal_installment", "equal_principal", "interest_first"]
ACCOUNTS = 40
KILLS = 4
PARTITIONS = 11  # account ids 1..40 in ranges of 4 starting at 0
SRC = Path(__file__).resolve().parents[2] / "src"


def build_book(engine: Engine) -> None:
    clock = Clock.fixed(OPENED)
    refs = [f"K{n:03d}" for n in range(ACCOUNTS)]
    open_book(engine, clock, refs)
    with unit_of_work(engine) as session:
        for n, ref in enumerate(refs):
            if n % 10 == 9:
                continue  # some accounts never draw
            service.draw(
                session,
                clock,
                account_ref=ref,
                amount_fen=100_000 + 7_919 * n,
                repayment_type=TYPES[n % 4],
                term_months=3,
                key=f"{ref}-d",
            )
    with unit_of_work(engine) as session:
        for n, ref in enumerate(refs[:8]):  # partial and over-payments (a credit balance)
            service.repay(session, clock, account_ref=ref, amount_fen=20_000 * (n + 1), key=f"r{n}")


def cob(url: str) -> subprocess.Popen[bytes]:
    env = os.environ | {"PYTHONPATH": str(SRC), "LIMITWISE_ENV": "dev"}
    args = ["cob", "run", "--to", THROUGH.isoformat(), "--db", url, "--partition-size", "4"]
    return subprocess.Popen(
        [sys.executable, "-m", "limitwise", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def partitions_done(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        done, total = conn.execute(
            text("SELECT SUM(CASE WHEN done THEN 1 ELSE 0 END), COUNT(*) FROM cob_partitions")
        ).one()
        conn.rollback()
    return int(done or 0), int(total)


def test_kill_9_at_random_moments_then_a_rerun_equals_an_uninterrupted_run(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    migrate.upgrade(reference_url)
    reference = make_engine(reference_url)
    build_book(reference)
    finished = cob(reference_url)
    assert finished.wait(timeout=300) == 0, finished.stdout.read() if finished.stdout else ""

    build_book(engine)
    # a plain engine to watch with: limitwise's SQLite engines take the write lock up front
    watcher = create_engine(normalise_url(db_url))
    kills, progress = 0, []
    for n in range(KILLS):
        run = cob(db_url)
        # kill once a random number of partitions is done, a random moment later (mid-way
        # through the next partition, or between two)
        kill_after = rng.randint(n + 1, PARTITIONS - KILLS + n)
        while run.poll() is None and partitions_done(watcher)[0] < kill_after:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.05))
        if run.poll() is None:
            run.send_signal(signal.SIGKILL)
            kills += 1
        run.wait(timeout=60)
        progress.append(partitions_done(watcher))
    watcher.dispose()
    rerun = cob(db_url)
    output = rerun.communicate(timeout=300)[0].decode()
    assert rerun.returncode == 0, output
    assert kills >= 1, f"no run was still going when killed (seed {seed})"
    assert any(0 < done < total for done, total in progress), (seed, progress)  # mid-run
    expected, actual = dump_book(reference), dump_book(engine)
    reference.dispose()
    assert actual == expected, f"seed {seed}: {first_difference(actual, expected)}"
