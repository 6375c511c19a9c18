"""Differential property test: the set-based close of business and the per-account one
(``servicing/book.py``) produce the same book over random lives of a book.

Each example opens a few accounts on two random products (grace days, an early-repayment
fee, short buckets so every bucket is reached, a rate the set-based engine prices exactly
or one it hands to the per-account engine), then runs the same random script on two
databases: draws of every repayment type, partial, early and over-payments (a credit
balance), backdated repayments between runs (a replay), and close of business over
stretches of 1 to 40 days — on one database with ``--engine account``, on the other with
the set-based engine. Every command must have the same outcome, and the final books must
be equal: entries with their legs and running balances, ledger balances, draws and
instalments, days past due, buckets, events and allocations.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.kit.errors import LimitwiseError
from limitwise.servicing import flows, service
from limitwise.servicing.schemas import ProductSpec
from tests import pgserver
from tests.servicing.book_dump import dump_book, first_difference

OPENED = dt.date(2026, 1, 5)
TYPES = ["daily", "equal_installment", "equal_principal", "interest_first"]
BUCKETS = [
    {"name": "M0", "min_dpd": 0, "max_dpd": 0},
    {"name": "M1", "min_dpd": 1, "max_dpd": 5},
    {"name": "M2", "min_dpd": 6, "max_dpd": 15},
    {"name": "M3+", "min_dpd": 16, "max_dpd": None},
]
ACCOUNTS = 3

products = st.builds(
    lambda grace, fee, rate, max_dpd: {
        "daily_rate_bps": rate,
        "grace_days": grace,
        "early_repayment_fee_bps": fee,
        "max_draw_dpd": max_dpd,
    },
    grace=st.sampled_from([0, 3]),
    fee=st.sampled_from(["0", "50"]),
    rate=st.sampled_from(["4.0", "5.5", "3.123456"]),
    max_dpd=st.sampled_from([0, 30]),
)
accounts = st.integers(0, ACCOUNTS - 1)
steps = st.one_of(
    st.tuples(
        st.just("draw"),
        accounts,
        st.sampled_from(TYPES),
        st.integers(10_000, 500_000),
        st.sampled_from([1, 2]),
    ),
    st.tuples(st.just("repay"), accounts, st.integers(1_000, 400_000), st.integers(0, 25)),
    st.tuples(st.just("cob"), st.integers(1, 40)),
)
scripts = st.lists(steps, min_size=3, max_size=12)


def product(name: str, rules: dict[str, Any]) -> ProductSpec:
    return ProductSpec.parse(
        {"name": name, "repayment_types": TYPES, "terms_months": [1, 2], "buckets": BUCKETS} | rules
    )


class Life:
    """One database living a script, with its own business date."""

    def __init__(self, engine: Engine, cob_engine: flows.CobEngine) -> None:
        self.engine, self.cob_engine, self.today = engine, cob_engine, OPENED
        self.outcomes: list[str] = []
        self.reports: list[flows.CobReport] = []

    def open(self, specs: list[ProductSpec]) -> None:
        clock = Clock.fixed(OPENED)
        with unit_of_work(self.engine) as session:
            for spec in specs:
                service.define_product(session, clock, spec=spec)
            for n in range(ACCOUNTS):
                service.open_account(
                    session,
                    clock,
                    ref=f"A{n}",
                    product_code=specs[n % 2].name,
                    line_fen=2_000_000,
                )

    def run(self, step: tuple[Any, ...], n: int) -> None:
        if step[0] == "cob":
            through = self.today + dt.timedelta(days=step[1] - 1)
            report = flows.run_cob(
                self.engine,
                Clock.fixed(through),
                as_of=through,
                cob_engine=self.cob_engine,
                partition_size=2,
            )
            self.reports.append(report)
            self.outcomes.append(f"cob {report.accounts_closed} {report.days_closed}")
            self.today = through + dt.timedelta(days=1)
            return
        clock = Clock.fixed(self.today)
        try:
            with unit_of_work(self.engine) as session:
                if step[0] == "draw":
                    _, account, kind, amount, term = step
                    service.draw(
                        session,
                        clock,
                        account_ref=f"A{account}",
                        amount_fen=amount,
                        repayment_type=kind,
                        term_months=term,
                        key=f"k{n}",
                    )
                else:
                    _, account, amount, back = step
                    effective = max(OPENED, self.today - dt.timedelta(days=back))
                    service.repay(
                        session,
                        clock,
                        account_ref=f"A{account}",
                        amount_fen=amount,
                        key=f"k{n}",
                        effective_date=effective,
                    )
            self.outcomes.append("ok")
        except LimitwiseError as refused:
            self.outcomes.append(refused.code)


def live(engine: Engine, cob_engine: flows.CobEngine, specs: list, script: list) -> Life:
    life = Life(engine, cob_engine)
    life.open(specs)
    for n, step in enumerate(script):
        life.run(step, n)
    return life


@contextmanager
def sqlite_pair(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    folder = tmp_path / uuid.uuid4().hex[:8]
    folder.mkdir()
    engines = []
    for name in ("account", "set"):
        engine = make_engine(f"sqlite:///{folder / name}.db")
        migrate.upgrade_engine(engine)
        engines.append(engine)
    try:
        yield engines[0], engines[1]
    finally:
        for engine in engines:
            engine.dispose()


@contextmanager
def postgres_pair(server: pgserver.PgServer, template: str) -> Iterator[tuple[Engine, Engine]]:
    names = [f"lw_diff_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    engines = [make_engine(pgserver.create_database(server, n, template=template)) for n in names]
    try:
        yield engines[0], engines[1]
    finally:
        for engine, name in zip(engines, names, strict=True):
            engine.dispose()
            pgserver.drop_database(server, name)


def check_equal(pair: tuple[Engine, Engine], rules: tuple[dict, dict], script: list) -> None:
    specs = [product("p0", rules[0]), product("p1", rules[1])]
    per_account = live(pair[0], flows.CobEngine.ACCOUNT, specs, script)
    set_based = live(pair[1], flows.CobEngine.SET, specs, script)
    assert set_based.outcomes == per_account.outcomes
    assert all(r.tally.partitions_per_account == 0 for r in set_based.reports)
    expected, actual = dump_book(pair[0]), dump_book(pair[1])
    assert actual == expected, first_difference(actual, expected)


def examples(count: int) -> settings:
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@examples(12)
@given(rules=st.tuples(products, products), script=scripts)
def test_engines_agree_on_sqlite(tmp_path: Path, rules: tuple, script: list) -> None:
    with sqlite_pair(tmp_path) as pair:
        check_equal(pair, rules, script)


@pytest.mark.postgres
@examples(4)
@given(rules=st.tuples(products, products), script=scripts)
def test_engines_agree_on_postgres(pg_server: Any, pg_template: Any, rules: tuple, script: list):
    if pg_server is None:
        pytest.skip("no PostgreSQL reachable")
    with postgres_pair(pg_server, pg_template) as pair:
        check_equal(pair, rules, script)
