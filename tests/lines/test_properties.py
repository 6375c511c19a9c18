"""Random event sequences over a small book: no line or status changes without a recorded
decision with 1-4 reasons, no cap is exceeded, and a line never sits below the outstanding
principal unless the account is frozen or closed."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from functools import partial
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.kit.errors import LimitwiseError
from limitwise.lines import flows, service
from limitwise.lines.rules import LineRules
from limitwise.lines.service import LineContext
from limitwise.servicing import service as servicing
from tests.lines.helpers import EXISTING, ChosenFeatures, start_simulation
from tests.onboarding import factory

SIGNALS = {
    "calm": {},
    "late": {"dpd_now": 10, "dpd_max_3m": 10, "dpd_max_12m": 10},
    "severe": {"dpd_now": 45, "dpd_max_3m": 45, "dpd_max_12m": 45},
    "lenders": {"multi_lender_count": 9},
    "growth": {
        "on_time_streak_months": 8,
        "behaviour_score": 760,
        "utilisation_avg_6m": 0.8,
        "months_since_last_line_change": 4,
    },
    "dormant": {"months_since_last_activity": 13},
}
steps = st.lists(
    st.tuples(
        st.sampled_from(["draw", "repay", "review", "roll"]),
        st.sampled_from(sorted(SIGNALS)),
        st.integers(min_value=1, max_value=40),
        st.integers(min_value=1, max_value=400).map(lambda y: y * 100_00),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=steps)
def test_random_event_sequences_keep_the_line_invariants(
    sqlite_template: Path, tmp_path: Path, script
):
    path = tmp_path / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    features = ChosenFeatures()
    rules = LineRules()
    context = LineContext(features=features, rules=rules)
    clock = factory.sample_clock()
    try:
        start_simulation(engine, clock)
        flows.prepare(engine, clock, context=context)
        _, decided = flows.apply(
            engine, clock, raw=factory.application(), onboarding=factory.context(), context=context
        )
        assert decided is not None and decided.account_ref is not None
        ref = decided.account_ref
        day = clock.today()
        for n, (kind, signal, days, amount_fen) in enumerate(script):
            features.accounts[ref] = EXISTING | SIGNALS[signal]
            today = Clock.fixed(day, at=clock.now())
            try:
                if kind == "roll":
                    flows.roll(
                        engine, today, through=day + dt.timedelta(days=days - 1), context=context
                    )
                    day += dt.timedelta(days=days)
                elif kind == "review":
                    with unit_of_work(engine) as session:
                        service.review_account(session, today, ref=ref, context=context)
                elif kind == "draw":
                    flows.command(
                        engine,
                        today,
                        partial(
                            servicing.draw,
                            clock=today,
                            account_ref=ref,
                            amount_fen=amount_fen,
                            repayment_type="daily",
                            term_months=3,
                            key=f"d{n}",
                        ),
                        context=context,
                    )
                else:
                    flows.command(
                        engine,
                        today,
                        partial(
                            servicing.repay,
                            clock=today,
                            account_ref=ref,
                            amount_fen=amount_fen,
                            key=f"r{n}",
                        ),
                        context=context,
                    )
            except LimitwiseError:
                pass  # a refused draw (frozen, over the line) changes nothing: checked below
            _check(engine, ref, day, rules)
    finally:
        engine.dispose()


def _check(engine, ref: str, day: dt.date, rules: LineRules) -> None:
    with unit_of_work(engine) as session:
        state = servicing.account_state(session, ref=ref, as_of=day)
        decisions = {d.decision_ref: d for d in service.history(session, ref=ref)}
        by_id = {i + 1: d for i, d in enumerate(decisions.values())}  # one account: ids from 1
        events = servicing.account_events(session, ref=ref)
    changes = [e for e in events if e["kind"] in ("line_changed", "status_changed")]
    for event in changes:
        decision = by_id[event["decision_id"]]
        assert 1 <= len(decision.reasons) <= 4, decision
        if event["kind"] == "line_changed":
            assert decision.new_line_fen == event["to_fen"]
        else:
            assert decision.new_status == event["to"]
    assert state.line_fen <= min(rules.per_customer_cap_fen, 30_000_000)
    if state.status not in ("frozen", "closed"):
        assert state.line_fen >= state.outstanding_principal_fen
