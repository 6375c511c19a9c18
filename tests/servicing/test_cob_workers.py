"""Several workers share one close of business: each partition is claimed by exactly one
of them (``FOR UPDATE SKIP LOCKED``), and the book equals a single worker's; ``cob work``
leaves the business date to ``cob run``, which shows progress and a summary."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from limitwise.businessdate import service as business_dates
from limitwise.cli import app
from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.servicing import flows
from tests.servicing.book_dump import dump_book, first_difference
from tests.servicing.test_cob_engines import OPENED, simple_book

THROUGH = OPENED + dt.timedelta(days=40)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_workers_share_the_partitions_and_the_book_equals_one_workers(
    engine: Engine, tmp_path: Path
) -> None:
    simple_book(engine)
    tallies: list[flows.CobTally] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            tallies.append(flows.work(engine, Clock.fixed(THROUGH), as_of=THROUGH, size=1))
        except BaseException as exc:  # asserted empty below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(t.accounts_closed for t in tallies) == 8  # every account closed exactly once
    with engine.connect() as conn:
        per_partition = conn.execute(
            text("SELECT accounts_closed FROM cob_partitions WHERE done ORDER BY lo_id")
        ).scalars()
        assert list(per_partition) == [1] * 8

    single = make_engine(f"sqlite:///{tmp_path / 'single.db'}")
    migrate.upgrade_engine(single)
    simple_book(single)
    flows.work(single, Clock.fixed(THROUGH), as_of=THROUGH, size=1)
    expected, actual = dump_book(single), dump_book(engine)
    single.dispose()
    assert actual == expected, first_difference(actual, expected)


def test_cob_work_closes_and_cob_run_finishes_and_advances_the_date(
    engine: Engine, db_url: str
) -> None:
    simple_book(engine)
    with unit_of_work(engine) as session:
        before = business_dates.business_date(session)
    to = ["--to", THROUGH.isoformat(), "--db", db_url, "--partition-size", "3"]
    worked = CliRunner().invoke(app, ["cob", "work", *to])
    assert worked.exit_code == 0, worked.output
    assert "partition 3/3" in worked.output  # plain progress lines off a terminal
    assert "0 account(s) newly overdue" not in worked.output  # every drawn account fell due
    with unit_of_work(engine) as session:
        assert business_dates.business_date(session) == before
    run = CliRunner().invoke(app, ["cob", "run", *to])
    assert run.exit_code == 0, run.output
    assert "0 account(s) closed, 0 account-day(s), 0 failure(s)" in run.output
    with unit_of_work(engine) as session:
        assert business_dates.business_date(session) == THROUGH + dt.timedelta(days=1)
