"""Random books and event sequences, on SQLite and PostgreSQL: the whole-book and the
one-account paths give identical features for every account, and features are
point-in-time (everything that happens after the as-of date changes nothing)."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from sqlalchemy import Engine

from limitwise.features import service as features
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.kit.errors import LimitwiseError
from limitwise.lines import flows
from limitwise.lines import service as lines
from limitwise.servicing import service as servicing
from tests import pgserver
from tests.conftest import BACKENDS
from tests.lines.helpers import start_simulation
from tests.onboarding import factory

OPERATOR_ACCOUNTS = 2
EVENTS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "bureau_update": st.fixed_dictionaries(
        {},
        optional={
            "bureau_score": st.integers(300, 900),
            "multi_lender_count": st.integers(0, 9),
        },
    ),
    "revaluation": st.builds(lambda y: {"vehicle_value_fen": y * 100_00}, st.integers(0, 2000)),
    "device_anomaly": st.just({}),
    "login_anomaly": st.just({}),
    "fraud_confirmed": st.just({}),
}
account = st.integers(0, OPERATOR_ACCOUNTS)
yuan = st.integers(1, 600).map(lambda y: y * 100_00)
step = st.one_of(
    st.tuples(
        st.just("draw"),
        account,
        yuan,
        st.sampled_from(["daily", "equal_installment", "equal_principal", "interest_first"]),
    ),
    st.tuples(st.just("repay"), account, yuan),
    st.tuples(
        st.just("event"),
        account,
        st.sampled_from(sorted(EVENTS)).flatmap(
            lambda kind: EVENTS[kind].map(lambda payload: (kind, payload))
        ),
    ),
    st.tuples(st.just("line"), account, st.integers(10, 3000).map(lambda y: y * 100_00)),
    st.tuples(st.just("macro"), st.sampled_from(["0.6", "0.8", "1.0", "1.2"])),
    st.tuples(st.just("wait"), st.integers(1, 45)),
)
scripts = st.tuples(
    st.lists(step, min_size=1, max_size=8),
    st.integers(1, 40),
    st.lists(step, min_size=1, max_size=6),
)


@pytest.fixture(params=BACKENDS)
def new_database(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Callable[[], AbstractContextManager[str]]:
    """A fresh migrated database per Hypothesis example, on each backend."""
    if request.param == "sqlite":

        @contextmanager
        def sqlite() -> Iterator[str]:
            path = tmp_path / f"{uuid.uuid4().hex}.db"
            shutil.copyfile(sqlite_template, path)
            yield f"sqlite:///{path}"

        return sqlite
    server = request.getfixturevalue("pg_server")
    if server is None:
        pytest.skip("no PostgreSQL reachable")
    template = request.getfixturevalue("pg_template")

    @contextmanager
    def postgres() -> Iterator[str]:
        name = f"lw_feat_{uuid.uuid4().hex[:12]}"
        url = pgserver.create_database(server, name, template=template)
        try:
            yield url
        finally:
            pgserver.drop_database(server, name)

    return postgres


class Book:
    """A small book run through the real commands, one business day at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.context = flows.default_context()
        start = factory.sample_clock()
        self.day = start.today()
        self.at = start.now()
        start_simulation(engine, start)
        flows.prepare(engine, start, context=self.context)
        _, decided = flows.apply(
            engine,
            start,
            raw=factory.application(),
            onboarding=factory.context(),
            context=self.context,
        )
        assert decided is not None and decided.account_ref is not None
        self.refs = [decided.account_ref]
        with unit_of_work(engine) as session:
            for n in range(OPERATOR_ACCOUNTS):
                ref = f"op-{n}"
                servicing.open_account(
                    session, start, ref=ref, product_code="jiebei-standard", line_fen=50_000_00
                )
                self.refs.append(ref)
        self.n = 0

    @property
    def clock(self) -> Clock:
        return Clock.fixed(self.day, at=self.at)

    def run(self, step: tuple[Any, ...]) -> None:
        self.n += 1
        kind, *args = step
        # A refused command (over the line, closed account) changes nothing.
        with suppress(LimitwiseError):
            getattr(self, f"_{kind}")(*args)

    def wait(self, days: int) -> None:
        flows.roll(
            self.engine,
            self.clock,
            through=self.day + dt.timedelta(days=days - 1),
            context=self.context,
        )
        self.day += dt.timedelta(days=days)

    def _command(self, action: Callable[..., Any]) -> None:
        flows.command(self.engine, self.clock, action, context=self.context)

    def _draw(self, index: int, amount_fen: int, repayment_type: str) -> None:
        self._command(
            partial(
                servicing.draw,
                clock=self.clock,
                account_ref=self.refs[index],
                amount_fen=amount_fen,
                repayment_type=repayment_type,
                term_months=3,
                key=f"d{self.n}",
            )
        )

    def _repay(self, index: int, amount_fen: int) -> None:
        self._command(
            partial(
                servicing.repay,
                clock=self.clock,
                account_ref=self.refs[index],
                amount_fen=amount_fen,
                key=f"r{self.n}",
            )
        )

    def _event(self, index: int, event: tuple[str, dict[str, Any]]) -> None:
        kind, payload = event
        self._command(
            partial(
                servicing.record_event,
                clock=self.clock,
                ref=self.refs[index],
                kind=kind,
                payload=payload,
            )
        )

    def _line(self, index: int, line_fen: int) -> None:
        with unit_of_work(self.engine) as session:
            lines.operator_change(
                session, self.clock, ref=self.refs[index], note="test", line_fen=line_fen
            )

    def _macro(self, factor: str) -> None:
        with unit_of_work(self.engine) as session:
            features.record_macro(session, self.clock, risk_appetite=Decimal(factor))

    def _wait(self, days: int) -> None:
        self.wait(days)

    def whole_book(self, as_of: dt.date) -> pl.DataFrame:
        with unit_of_work(self.engine) as session:
            return features.book_features(session, as_of=as_of)

    def one_by_one(self, as_of: dt.date) -> pl.DataFrame:
        with unit_of_work(self.engine) as session:
            ids = features.book_features(session, as_of=as_of)["account_id"].to_list()
            return pl.concat(
                [features.book_features(session, as_of=as_of, account_id=i) for i in ids]
            )

    def rows_of_source(self, as_of: dt.date) -> list[dict[str, Any]]:
        """What the line service sees, through the feature source, for every account."""
        source = features.PolicyFeatures()
        with unit_of_work(self.engine) as session:
            return [source.account(session, ref=ref, as_of=as_of).values for ref in self.refs]


def _check_paths_agree(book: Book, as_of: dt.date) -> pl.DataFrame:
    whole = book.whole_book(as_of)
    assert whole.height == len(book.refs)
    assert_frame_equal(whole, book.one_by_one(as_of), check_exact=True)
    by_ref = {row["ref"]: row for row in whole.iter_rows(named=True)}
    for ref, values in zip(book.refs, book.rows_of_source(as_of), strict=True):
        assert values == {name: by_ref[ref][name] for name in features.FEATURES}
    return whole


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=scripts)
def test_both_paths_agree_and_nothing_after_the_as_of_date_leaks_in(
    new_database: Callable[[], AbstractContextManager[str]],
    script: tuple[list[tuple[Any, ...]], int, list[tuple[Any, ...]]],
) -> None:
    before, gap, after = script
    with new_database() as url:
        engine = make_engine(url)
        try:
            book = Book(engine)
            for s in before:
                book.run(s)
            as_of = book.day
            seen = _check_paths_agree(book, as_of)
            book.wait(gap)
            for s in after:
                book.run(s)
            assert_frame_equal(book.whole_book(as_of), seen, check_exact=True)
            _check_paths_agree(book, book.day)
        finally:
            engine.dispose()
