"""Multi-step line work, each step in its own transaction: an application through to its
decision and account; a servicing command followed by the re-decisions it triggers; the
business-date roll (COB, then the changes whose notice has run, then the triggers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from limitwise.businessdate.service import BookDates
from limitwise.features.service import PolicyFeatures
from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.kit.settings import Settings, get_settings
from limitwise.lines import defaults, service
from limitwise.lines.rules import rules_from_settings
from limitwise.lines.schemas import ApplicationDecision
from limitwise.lines.service import LineContext
from limitwise.onboarding.flows import (
    Gathered,
    OnboardingContext,
    gather_application,
    record_application,
)
from limitwise.onboarding.schemas import ApplicationOutcome, ApplicationStatus
from limitwise.servicing import flows as servicing_flows
from limitwise.servicing.flows import CobReport

T = TypeVar("T")
#: Trigger events re-decided per transaction when the queue is drained.
DRAIN_BATCH = 100


def default_context(settings: Settings | None = None) -> LineContext:
    """The line service as configured: rules file, policy key, the book's features."""
    settings = settings or get_settings()
    return LineContext(
        features=PolicyFeatures(),
        rules=rules_from_settings(settings),
        policy_key=settings.line_policy_key,
    )


def prepare(engine: Engine, clock: Clock, *, context: LineContext) -> list[str]:
    """Install the shipped products, policy and scorecards where nothing is live yet."""
    with unit_of_work(engine) as session:
        return defaults.install_defaults(session, clock, policy_key=context.policy_key)


def apply(
    engine: Engine,
    clock: Clock,
    *,
    raw: Any,
    onboarding: OnboardingContext,
    context: LineContext,
) -> tuple[ApplicationOutcome, ApplicationDecision | None]:
    """Submit an application and, once onboarding leaves it ``pending_decision``, decide it
    and open the account. The providers are asked first, with no transaction open; then the
    application, its decision and its account are stored in one transaction: an approval
    never lacks its account."""
    gathered = gather_application(engine, clock, raw=raw, context=onboarding)
    with unit_of_work(engine) as session:
        return record_and_decide(session, clock, gathered, onboarding=onboarding, context=context)


def record_and_decide(
    session: Session,
    clock: Clock,
    gathered: Gathered,
    *,
    onboarding: OnboardingContext,
    context: LineContext,
) -> tuple[ApplicationOutcome, ApplicationDecision | None]:
    """Store a gathered application and, if onboarding leaves it ``pending_decision``,
    decide it and open the account, all in the caller's transaction."""
    outcome = record_application(session, clock, gathered, context=onboarding)
    if outcome.status is not ApplicationStatus.PENDING_DECISION:
        return outcome, None
    return outcome, service.decide_application(session, clock, outcome=outcome, context=context)


def command(
    engine: Engine, clock: Clock, action: Callable[[Session], T], *, context: LineContext
) -> T:
    """Run a servicing command in its transaction, then re-decide what it triggered."""
    with unit_of_work(engine) as session:
        result = action(session)
    drain(engine, clock, context=context)
    return result


def drain(engine: Engine, clock: Clock, *, context: LineContext) -> int:
    """Answer every queued trigger event, a batch per transaction: a crash between batches
    leaves the rest queued, and an answered event is never answered again."""
    total = 0
    while True:
        with unit_of_work(engine) as session:
            done = service.drain_triggers(session, clock, context=context, limit=DRAIN_BATCH)
        total += done
        if done < DRAIN_BATCH:
            return total


@dataclass(frozen=True)
class RollReport:
    cob: CobReport
    changes_applied: int
    dates: BookDates


def roll(
    engine: Engine,
    clock: Clock,
    *,
    through: dt.date,
    context: LineContext,
    batch_size: int = servicing_flows.DEFAULT_BATCH_SIZE,
    cob_engine: servicing_flows.CobEngine = servicing_flows.CobEngine.SET,
    partition_size: int = servicing_flows.DEFAULT_PARTITION_SIZE,
    progress: servicing_flows.Progress | None = None,
) -> RollReport:
    """Close business days through ``through`` (COB), apply the changes whose notice has
    run by the next business date, answer the triggers COB raised (bucket changes), and
    advance the stored business date: what ``cob run`` and ``lines roll`` both do."""
    applied = 0

    def when_closed(next_day: Clock) -> None:
        nonlocal applied
        with unit_of_work(engine) as session:
            applied = service.apply_due_changes(session, next_day, as_of=next_day.today())
        drain(engine, next_day, context=context)

    report, dates = servicing_flows.close_through(
        engine,
        clock,
        through=through,
        batch_size=batch_size,
        then=when_closed,
        cob_engine=cob_engine,
        partition_size=partition_size,
        progress=progress,
    )
    return RollReport(cob=report, changes_applied=applied, dates=dates)
