"""The line service on SQLite and PostgreSQL: applications end in a decision and an
account, reviews apply what the guards allow, notice is kept, triggers are answered once,
and the decision log is append-only in the database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from limitwise.cli import app
from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.lines import flows, service
from limitwise.lines.service import LineContext
from limitwise.onboarding.schemas import ApplicationStatus
from limitwise.providers.registry import local_sources
from limitwise.servicing import service as servicing
from tests.lines.helpers import EXISTING, ChosenFeatures, start_simulation
from tests.onboarding import factory

DAY = factory.SAMPLE_DAY


def opened(engine: Engine, features: ChosenFeatures) -> tuple[LineContext, str]:
    context = LineContext(features=features)
    clock = factory.sample_clock()
    start_simulation(engine, clock)
    flows.prepare(engine, clock, context=context)
    outcome, decided = flows.apply(
        engine, clock, raw=factory.application(), onboarding=factory.context(), context=context
    )
    assert decided is not None and decided.account_ref is not None, outcome
    return context, decided.account_ref


def review(engine: Engine, context: LineContext, ref: str, day: dt.date):
    with unit_of_work(engine) as session:
        return service.review_account(session, Clock.fixed(day), ref=ref, context=context)


def state(engine: Engine, ref: str, day: dt.date):
    with unit_of_work(engine) as session:
        return servicing.account_state(session, ref=ref, as_of=day)


def test_an_approved_application_opens_its_account_with_the_decided_line(engine):
    features = ChosenFeatures()
    _, ref = opened(engine, features)
    with unit_of_work(engine) as session:
        history = service.history(session, ref=ref)
    (decision,) = history
    # income 15,000 x 3.0 (score 700-739, income 10k-20k) = 45,000 yuan; under every cap
    assert (decision.action, decision.new_line_fen, decision.timing) == (
        "approve",
        4_500_000,
        "now",
    )
    assert decision.policy == "jiebei-default@2026.12.1" and decision.reason_codes == ["GRANTED"]
    assert state(engine, ref, DAY).line_fen == 4_500_000


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_twin_applications_racing_open_one_account(engine):
    """Two submissions of one application meet inside the real-name call (no lock is held
    while a provider answers); storing them under the person's lock approves one and opens
    one account, and the other is its duplicate with no decision and no account."""
    context = LineContext(features=ChosenFeatures())
    clock = factory.sample_clock()
    start_simulation(engine, clock)
    flows.prepare(engine, clock, context=context)
    realname = factory.Rendezvous(local_sources().realname, parties=2)
    onboarding = factory.context(sources=dataclasses.replace(local_sources(), realname=realname))

    def twin(_index: int):
        return flows.apply(
            engine, clock, raw=factory.application(), onboarding=onboarding, context=context
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(twin, range(2)))
    ((first, approved),) = [(o, d) for o, d in results if d is not None]
    ((duplicate, _),) = [(o, d) for o, d in results if d is None]
    assert duplicate.status is ApplicationStatus.DUPLICATE and realname.calls == 2
    assert duplicate.duplicate_of == first.application_ref and approved.account_ref
    with unit_of_work(engine) as session:
        assert servicing.account_refs(session) == [approved.account_ref]
        assert len(service.history(session, ref=approved.account_ref)) == 1


def test_a_credit_rule_declines_in_the_policy_with_its_reason(engine):
    features = ChosenFeatures()
    features.applicant_values["age_years"] = 60  # onboarding lets it through; the policy's 22-55
    context = LineContext(features=features)
    clock = factory.sample_clock()
    start_simulation(engine, clock)
    flows.prepare(engine, clock, context=context)
    _, decided = flows.apply(
        engine, clock, raw=factory.application(), onboarding=factory.context(), context=context
    )
    assert decided is not None and decided.account_ref is None
    assert (decided.decision.action, decided.decision.reason_codes) == ("decline", ["AGE"])
    with unit_of_work(engine) as session:
        assert servicing.account_refs(session) == []


def test_a_cut_waits_for_its_notice_then_the_roll_applies_it(engine):
    features = ChosenFeatures()
    context, ref = opened(engine, features)
    features.accounts[ref] = EXISTING | {"multi_lender_count": 9}
    later = DAY + dt.timedelta(days=40)
    cut = review(engine, context, ref, later)
    assert (cut.action, cut.timing, cut.new_line_fen) == ("decrease", "scheduled", 3_600_000)
    assert cut.effective_on == later + dt.timedelta(days=7)
    assert state(engine, ref, later).line_fen == 4_500_000  # not yet
    again = review(engine, context, ref, later + dt.timedelta(days=2))
    assert again.effective_on == cut.effective_on  # announced once, not pushed out
    flows.roll(
        engine, Clock.fixed(later), through=cut.effective_on - dt.timedelta(days=1), context=context
    )
    assert state(engine, ref, cut.effective_on).line_fen == 3_600_000
    with unit_of_work(engine) as session:
        last = service.history(session, ref=ref)[-1]
        assert service.pending_change(session, ref=ref) is None
    assert (last.trigger, last.trigger_ref) == ("notice_due", cut.decision_ref)


def test_cob_run_applies_the_announced_change_that_falls_due(engine, db_url):
    """`cob run` is the same roll as `lines roll` (it used to close days only)."""
    features = ChosenFeatures()
    context, ref = opened(engine, features)
    features.accounts[ref] = EXISTING | {"multi_lender_count": 9}
    cut = review(engine, context, ref, DAY + dt.timedelta(days=40))
    assert cut.timing == "scheduled"
    eve = cut.effective_on - dt.timedelta(days=1)
    result = CliRunner().invoke(app, ["cob", "run", "--to", eve.isoformat(), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "1 announced line change(s) applied" in result.output
    assert f"business date now {cut.effective_on}" in result.output
    assert state(engine, ref, cut.effective_on).line_fen == 3_600_000
    with unit_of_work(engine) as session:
        assert service.pending_change(session, ref=ref) is None


def test_severe_risk_acts_at_once(engine):
    features = ChosenFeatures()
    context, ref = opened(engine, features)
    features.accounts[ref] = EXISTING | {"dpd_now": 45, "dpd_max_3m": 45, "dpd_max_12m": 45}
    frozen = review(engine, context, ref, DAY + dt.timedelta(days=3))
    assert (frozen.action, frozen.timing, frozen.new_status) == ("freeze", "now", "frozen")
    assert state(engine, ref, DAY).status == "frozen"


def test_each_trigger_event_is_answered_once_even_when_drained_again(engine):
    features = ChosenFeatures()
    context, ref = opened(engine, features)
    clock = factory.sample_clock()
    flows.command(
        engine,
        clock,
        lambda s: servicing.draw(
            s,
            clock,
            account_ref=ref,
            amount_fen=100_000,
            repayment_type="daily",
            term_months=3,
            key="d1",
        ),
        context=context,
    )
    assert flows.drain(engine, clock, context=context) == 0
    with unit_of_work(engine) as session:
        triggers = [
            d.trigger_ref for d in service.history(session, ref=ref) if d.trigger == "event"
        ]
    assert len(triggers) == 1 and triggers[0].endswith("drawn")


def test_the_decision_log_refuses_updates_and_deletes(engine):
    _, ref = opened(engine, ChosenFeatures())
    for statement in ("UPDATE line_decisions SET new_line_fen = 1", "DELETE FROM line_decisions"):
        with pytest.raises(DBAPIError), unit_of_work(engine) as session:
            session.execute(text(statement))
    assert state(engine, ref, DAY).line_fen == 4_500_000
