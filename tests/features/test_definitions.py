"""The definitions against a book worked by hand, on SQLite and PostgreSQL, and the policy
check: a policy reading a feature the domain cannot compute is refused, naming it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from limitwise.features import service as features
from limitwise.features.definitions import month_ends
from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.kit.errors import NotFound
from limitwise.lines import defaults, flows
from limitwise.lines import service as lines
from limitwise.lines.service import LineContext
from limitwise.policy import service as policy_service
from limitwise.policy.validate import load_text
from limitwise.servicing import service as servicing
from tests.lines.helpers import start_simulation
from tests.onboarding import factory

OPENED = dt.date(2026, 1, 5)


def on(day: dt.date) -> Clock:
    return Clock.fixed(day)


def features_of(engine: Engine, ref: str, as_of: dt.date) -> dict[str, Any]:
    with unit_of_work(engine) as session:
        return features.PolicyFeatures().account(session, ref=ref, as_of=as_of).values


@pytest.fixture
def book(engine: Engine) -> Engine:
    """Account A, worked by hand: line ¥10,000 opened 5 Jan; ¥3,000 drawn that day in
    three monthly instalments (due 5 Feb, 5 Mar, 5 Apr) and not repaid; an anomaly on
    1 Feb, the macro factor set to 0.8 on 1 Feb, the line cut to ¥8,000 on 10 Feb, a
    bureau refresh on 20 Feb, a login anomaly on 1 Mar; close of business through 9 Mar."""
    start = on(OPENED)
    context = flows.default_context()
    start_simulation(engine, start)
    flows.prepare(engine, start, context=context)
    with unit_of_work(engine) as session:
        servicing.open_account(
            session, start, ref="A", product_code="jiebei-standard", line_fen=10_000_00
        )
        servicing.draw(
            session,
            start,
            account_ref="A",
            amount_fen=3_000_00,
            repayment_type="equal_installment",
            term_months=3,
            key="d1",
        )

    def roll_to(day: dt.date, clock: Clock) -> Clock:
        flows.roll(engine, clock, through=day - dt.timedelta(days=1), context=context)
        return on(day)

    clock = roll_to(dt.date(2026, 2, 1), start)
    with unit_of_work(engine) as session:
        servicing.record_event(session, clock, ref="A", kind="device_anomaly", payload={})
        features.record_macro(session, clock, risk_appetite=Decimal("0.8"))
    clock = roll_to(dt.date(2026, 2, 10), clock)
    with unit_of_work(engine) as session:
        lines.operator_change(session, clock, ref="A", note="hand-worked", line_fen=8_000_00)
    clock = roll_to(dt.date(2026, 2, 20), clock)
    with unit_of_work(engine) as session:
        servicing.record_event(
            session, clock, ref="A", kind="bureau_update", payload={"bureau_score": 610}
        )
    clock = roll_to(dt.date(2026, 3, 1), clock)
    with unit_of_work(engine) as session:
        servicing.record_event(session, clock, ref="A", kind="login_anomaly", payload={})
    roll_to(dt.date(2026, 3, 10), clock)
    return engine


def test_a_late_account_worked_by_hand(book: Engine) -> None:
    got = features_of(book, "A", dt.date(2026, 3, 10))
    with unit_of_work(book) as session:
        engine_dpd = servicing.account_state(session, ref="A", as_of=dt.date(2026, 3, 10))
    # 5 Feb unpaid: 33 days late on 10 Mar, as servicing's own engine counts.
    assert got["dpd_now"] == 33 == engine_dpd.days_past_due
    assert got["dpd_max_3m"] == got["dpd_max_12m"] == 33
    assert got["on_time_streak_months"] == 0
    assert got["current_line_fen"] == 8_000_00
    assert got["utilisation_now"] == 3_000_00 / 8_000_00
    # Month-ends since opening: 31 Jan (line ¥10,000) and 28 Feb (line ¥8,000).
    assert got["utilisation_avg_6m"] == (300_000 + 375_000) / 2_000_000
    assert got["months_since_last_line_change"] == 1  # 10 Feb → 10 Mar
    assert got["months_since_last_activity"] == 2  # the draw on 5 Jan
    assert got["draws_last_7d"] == 0
    assert got["bureau_score"] == 610
    assert (got["device_anomaly"], got["login_anomaly"]) == (False, True)  # 37 and 9 days ago
    assert got["risk_appetite"] == 0.8
    assert got["segment"] == "existing"


def test_repaying_in_full_before_the_last_due_date_is_an_early_payoff(book: Engine) -> None:
    day = dt.date(2026, 3, 10)
    with unit_of_work(book) as session:
        state = servicing.account_state(session, ref="A", as_of=day)
        owed = (
            state.outstanding_principal_fen
            + state.interest_receivable_fen
            + state.penalty_receivable_fen
        )
        servicing.repay(session, on(day), account_ref="A", amount_fen=owed, key="owed")
        # The third period's interest was taken in advance: what is left is principal.
        rest = servicing.account_state(session, ref="A", as_of=day).outstanding_principal_fen
        servicing.repay(session, on(day), account_ref="A", amount_fen=rest, key="rest")
    got = features_of(book, "A", day)
    assert got["dpd_now"] == 0
    assert got["dpd_max_3m"] == 33  # cured today: the episode still counts
    assert got["early_payoff_count_12m"] == 1  # paid off before 5 Apr
    assert got["utilisation_now"] == 0.0
    assert got["months_since_last_activity"] == 0


def test_an_earlier_as_of_date_sees_only_what_had_happened(book: Engine) -> None:
    got = features_of(book, "A", dt.date(2026, 1, 20))
    assert got["dpd_now"] == got["dpd_max_12m"] == 0
    assert got["current_line_fen"] == 10_000_00
    assert got["utilisation_now"] == got["utilisation_avg_6m"] == 0.3  # no month-end yet
    assert got["bureau_score"] == 650  # no application, no refresh yet: the default
    assert got["risk_appetite"] == 1.0
    assert (got["device_anomaly"], got["login_anomaly"]) == (False, False)


def test_an_account_not_open_on_the_as_of_date_is_not_found(book: Engine) -> None:
    with pytest.raises(NotFound, match="not open"):
        features_of(book, "A", dt.date(2026, 1, 4))


def test_month_ends_are_the_six_before_the_as_of_month() -> None:
    assert month_ends(dt.date(2026, 3, 31)) == [
        dt.date(2026, 2, 28),
        dt.date(2026, 1, 31),
        dt.date(2025, 12, 31),
        dt.date(2025, 11, 30),
        dt.date(2025, 10, 31),
        dt.date(2025, 9, 30),
    ]


def test_a_policy_reading_an_unknown_feature_is_refused_by_name(engine: Engine) -> None:
    clock = factory.sample_clock()
    context = LineContext(features=features.PolicyFeatures(), policy_key="jiebei-extra")
    start_simulation(engine, clock)
    shipped = defaults.shipped_policy_path().read_text(encoding="utf-8")
    extra = shipped.replace("key: jiebei-default", "key: jiebei-extra").replace(
        "features:\n", "features:\n  salary_band: {type: int, min: 0}\n", 1
    )
    with unit_of_work(engine) as session:
        defaults.install_defaults(session, clock, policy_key="jiebei-default")
        policy_service.publish(session, clock, source_yaml=extra)
    with pytest.raises(features.UnknownFeatures, match="salary_band") as refused:
        flows.apply(
            engine, clock, raw=factory.application(), onboarding=factory.context(), context=context
        )
    assert "jiebei-extra@2026.12.1" in str(refused.value)
    with unit_of_work(engine) as session:
        assert servicing.account_refs(session) == []


def test_every_feature_the_shipped_policy_reads_is_computed() -> None:
    policy = load_text(defaults.shipped_policy_path().read_text(encoding="utf-8"))
    features.check_policy("shipped", policy.features)
    assert set(policy.features) == features.FEATURES
