"""The line service: decide with the live policy, dispose, record, apply. Never commits.

The only code that changes a credit account's line, status or sub-lines: every change
goes through :func:`_record` first, and servicing's ``change_line``/``set_status`` take the
recorded decision's id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from limitwise.kit.clock import Clock
from limitwise.kit.errors import InvalidInput, NotFound
from limitwise.kit.ids import new_id
from limitwise.kit.money import format_yuan
from limitwise.lines import repository
from limitwise.lines.dispose import (
    CLOSED,
    MAX_REASONS,
    NO_ACCOUNT,
    Adjustment,
    Disposal,
    Proposal,
    Standing,
    dispose_one,
)
from limitwise.lines.inputs import FeatureRow, FeatureSource
from limitwise.lines.models import (
    EventReview,
    LineDecision,
    LineHolder,
    PendingChange,
    PendingState,
    Timing,
    Trigger,
)
from limitwise.lines.reasons import LINE_REASONS
from limitwise.lines.rules import LineRules
from limitwise.lines.schemas import ApplicationDecision, DecisionView
from limitwise.onboarding import service as onboarding
from limitwise.onboarding.schemas import ApplicationOutcome, ApplicationStatus
from limitwise.policy import service as policy_service
from limitwise.policy.online import Decision, PolicyEvaluator
from limitwise.policy.schemas import Node, RulesetNode, TableNode
from limitwise.policy.validate import load_text
from limitwise.servicing import service as servicing
from limitwise.servicing.models import AccountStatus
from limitwise.servicing.schemas import AccountState

#: Account events that re-decide the account at once (``segment: existing``).
TRIGGER_KINDS = (
    "drawn",
    "repaid",
    "bucket_changed",
    "bureau_update",
    "revaluation",
    "device_anomaly",
    "login_anomaly",
    "fraud_confirmed",
)
#: The policy's ``product`` feature → the servicing product an approved line opens on.
DEFAULT_PRODUCTS = {"standard": "jiebei-standard", "car_owner": "jiebei-car-owner"}
OPERATOR_POLICY = "operator"


@dataclass(frozen=True)
class LineContext:
    """What deciding needs besides the session and the clock."""

    features: FeatureSource
    rules: LineRules = field(default_factory=LineRules)
    policy_key: str = "jiebei-default"
    products: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PRODUCTS))


# --- deciding --------------------------------------------------------------------------------


def decide_application(
    session: Session, clock: Clock, *, outcome: ApplicationOutcome, context: LineContext
) -> ApplicationDecision:
    """An application that onboarding left ``pending_decision``: features, the live policy,
    the line service's caps; on approval the credit account is opened with that line."""
    if outcome.status is not ApplicationStatus.PENDING_DECISION:
        raise InvalidInput(
            f"application {outcome.application_ref} is {outcome.status.value}, not "
            "pending_decision",
            field="application",
            code="application_not_pending",
        )
    as_of = clock.today()
    person = onboarding.person_of(session, application_ref=outcome.application_ref)
    evaluator = _checked_evaluator(session, context)
    row = context.features.applicant(session, outcome=outcome, as_of=as_of)
    decision = evaluator.evaluate(row.values)
    product_code = context.products[str(row.values.get("product", "standard"))]
    product = servicing.product_named(session, product_code)
    standing = Standing(
        status=NO_ACCOUNT,
        line_fen=0,
        outstanding_principal_fen=0,
        product_min_fen=product.min_line_fen,
        product_max_fen=product.max_line_fen,
        other_lines_fen=repository.lines_of_person(session, person, besides=None),
        verified_income_monthly_fen=_verified_income(row),
        dpd_now=0,
        dpd_max_12m=0,
    )
    disposal = dispose_one(_proposal(decision), standing, rules=context.rules, as_of=as_of)
    account_ref = new_id("cl") if disposal.action == "approve" else None
    recorded = _record(
        session,
        clock,
        trigger=Trigger.APPLICATION,
        trigger_ref=outcome.application_ref,
        account_ref=account_ref,
        application_ref=outcome.application_ref,
        row=row,
        decision=decision,
        standing=standing,
        disposal=disposal,
    )
    if account_ref is None:
        return ApplicationDecision(DecisionView.of(recorded), None, None, None)
    servicing.open_account(
        session,
        clock,
        ref=account_ref,
        product_code=product_code,
        line_fen=disposal.line_fen,
        decision_id=recorded.id,
    )
    account_id = servicing.lock_account(session, account_ref)
    repository.add(
        session,
        LineHolder(
            credit_account_id=account_id,
            account_ref=account_ref,
            person_index=person,
            application_ref=outcome.application_ref,
            verified_income_monthly_fen=standing.verified_income_monthly_fen,
        ),
    )
    repository.replace_sub_lines(
        session, credit_account_id=account_id, sub_lines=disposal.sub_lines, decision_id=recorded.id
    )
    return ApplicationDecision(
        DecisionView.of(recorded),
        account_ref,
        product_code,
        servicing.format_apr(product.nominal_apr),
    )


def review_account(
    session: Session,
    clock: Clock,
    *,
    ref: str,
    context: LineContext,
    trigger: Trigger = Trigger.REVIEW,
    trigger_ref: str = "review",
) -> DecisionView:
    """Re-decide one account through the live policy (``segment: existing``) and apply
    what the line service disposes."""
    row = _review(
        session, clock, ref=ref, context=context, trigger=trigger, trigger_ref=trigger_ref
    )
    return DecisionView.of(row)


def _review(
    session: Session,
    clock: Clock,
    *,
    ref: str,
    context: LineContext,
    trigger: Trigger,
    trigger_ref: str,
) -> LineDecision:
    account_id = servicing.lock_account(session, ref)
    as_of = clock.today()
    state = servicing.account_state(session, ref=ref, as_of=as_of)
    evaluator = _checked_evaluator(session, context)
    row = context.features.account(session, ref=ref, as_of=as_of)
    decision = evaluator.evaluate(row.values)
    standing = _standing(session, state, account_id, row, context.rules, as_of)
    disposal = _settle_with_pending(
        session,
        account_id,
        dispose_one(_proposal(decision), standing, rules=context.rules, as_of=as_of),
    )
    recorded = _record(
        session,
        clock,
        trigger=trigger,
        trigger_ref=trigger_ref,
        account_ref=ref,
        application_ref=None,
        row=row,
        decision=decision,
        standing=standing,
        disposal=disposal,
    )
    _apply(session, clock, ref, account_id, standing, disposal, recorded)
    return recorded


def drain_triggers(
    session: Session, clock: Clock, *, context: LineContext, limit: int = 100
) -> int:
    """Re-decide the accounts of up to ``limit`` unanswered trigger events, oldest first;
    each answered event is marked in the same transaction as its decision."""
    events = repository.unreviewed_events(session, kinds=TRIGGER_KINDS, limit=limit)
    for event_id, kind, ref in events:
        decision = _review(
            session,
            clock,
            ref=ref,
            context=context,
            trigger=Trigger.EVENT,
            trigger_ref=f"event:{event_id} {kind}",
        )
        repository.add(session, EventReview(event_id=event_id, decision_id=decision.id))
    return len(events)


def apply_due_changes(session: Session, clock: Clock, *, as_of: dt.date) -> int:
    """Apply every change announced with notice whose date has come (the business-date
    roll); each is applied by a ``notice_due`` decision naming the one that announced it."""
    due = repository.due_pending(session, as_of)
    for pending in due:
        _apply_pending(session, clock, pending)
    return len(due)


def operator_change(
    session: Session,
    clock: Clock,
    *,
    ref: str,
    note: str,
    line_fen: int | None = None,
    status: AccountStatus | None = None,
) -> DecisionView:
    """An operator's own change with its stated note, recorded like any decision."""
    if not note.strip():
        raise InvalidInput("an operator change needs a note", field="reason", code="note_required")
    account_id = servicing.lock_account(session, ref)
    state = servicing.account_state(session, ref=ref, as_of=clock.today())
    if state.status == CLOSED:
        raise servicing.AccountClosed(f"account {ref} is closed", field="account")
    new_line = state.line_fen if line_fen is None else line_fen
    new_status = state.status if status is None else status.value
    action = _operator_action(state, new_line, new_status)
    disposal = Disposal(
        action=action,
        line_fen=new_line,
        status=new_status,
        timing=Timing.NOW,
        effective_on=clock.today(),
        sub_lines=repository.sub_lines_of(session, account_id),
        adjustments=(Adjustment("operator", "OPERATOR", note.strip()[:300]),),
        reasons=("OPERATOR",),
    )
    standing = _bare_standing(state, repository.sub_lines_of(session, account_id))
    recorded = _record_operator(session, clock, ref, standing, disposal)
    _apply(session, clock, ref, account_id, standing, disposal, recorded)
    return DecisionView.of(recorded)


# --- reading ---------------------------------------------------------------------------------


def history(session: Session, *, ref: str) -> list[DecisionView]:
    """Every decision about an account, oldest first (its application decision included)."""
    servicing.account_id(session, ref)  # a clear NotFound for an unknown account
    return [DecisionView.of(row) for row in repository.decisions_of(session, ref)]


def application_decision(session: Session, *, application_ref: str) -> DecisionView | None:
    """The line decision an application ended in, if it was decided."""
    row = repository.decision_of_application(session, application_ref)
    return None if row is None else DecisionView.of(row)


def persons_holding(session: Session, *, refs: Sequence[str]) -> set[str]:
    """Who holds these accounts: the blind indexes of their people."""
    return repository.persons_holding(session, refs)


def holder_application(session: Session, *, ref: str) -> str:
    """The application the account was opened from (who holds it)."""
    holder = repository.holder_of(session, ref)
    if holder is None:
        raise NotFound(f"credit account {ref!r} has no recorded holder", field="account")
    return holder.application_ref


def accounts_of_person(session: Session, *, person_index: str) -> list[tuple[str, str]]:
    """(account ref, application ref) of every account the person holds."""
    return [
        (h.account_ref, h.application_ref)
        for h in repository.holders_of_person(session, person_index)
    ]


def decision_counts(session: Session) -> dict[str, int]:
    """Line decisions recorded so far, by action (``raise``, ``cut``, ``freeze``, ...)."""
    return repository.decision_counts_by_action(session)


def sub_lines(session: Session, *, ref: str) -> dict[str, int]:
    return repository.sub_lines_of(session, servicing.account_id(session, ref))


def pending_change(session: Session, *, ref: str) -> dict[str, Any] | None:
    pending = repository.pending_of(session, servicing.account_id(session, ref))
    if pending is None:
        return None
    return {
        "action": pending.action,
        "line_fen": pending.line_fen,
        "status": pending.status,
        "effective_on": pending.effective_on.isoformat(),
    }


# --- internals -------------------------------------------------------------------------------

_EVALUATORS: dict[str, PolicyEvaluator] = {}


def live_evaluator(session: Session, policy_key: str) -> PolicyEvaluator:
    """The active published version of ``policy_key``, compiled once per content hash."""
    view, source = policy_service.show(session, policy_key=policy_key)
    evaluator = _EVALUATORS.get(view.content_hash)
    if evaluator is None:
        policy = load_text(source, source=f"{policy_key}@{view.version}")
        evaluator = _EVALUATORS[view.content_hash] = PolicyEvaluator(policy)
    return evaluator


def _checked_evaluator(session: Session, context: LineContext) -> PolicyEvaluator:
    """The live policy, once the feature source has agreed it can compute what it reads."""
    evaluator = live_evaluator(session, context.policy_key)
    policy = evaluator.policy
    context.features.check(f"{policy.key}@{policy.version}", evaluator.required)
    return evaluator


def _proposal(decision: Decision) -> Proposal:
    return Proposal(
        action=decision.action,
        line_fen=decision.line_fen,
        reasons=tuple(decision.reasons),
        notice=decision.notice,
        sub_lines=dict(decision.sub_lines),
    )


def _verified_income(row: FeatureRow) -> int | None:
    if "verified_income_monthly_fen" in row.missing:
        return None
    value = row.values.get("verified_income_monthly_fen")
    return int(value) if value else None


def _standing(
    session: Session,
    state: AccountState,
    account_id: int,
    row: FeatureRow,
    rules: LineRules,
    as_of: dt.date,
) -> Standing:
    holder = repository.holder_of(session, state.ref)
    product = servicing.product_named(session, state.product)
    last = repository.last_line_change(session, state.ref)
    cycle_start = as_of - dt.timedelta(days=rules.cycle_days)
    increases = [
        d
        for d in repository.applied_changes_since(session, state.ref, cycle_start)
        if d.new_line_fen > d.old_line_fen and d.trigger != Trigger.APPLICATION
    ]
    return Standing(
        status=state.status,
        line_fen=state.line_fen,
        outstanding_principal_fen=state.outstanding_principal_fen,
        product_min_fen=product.min_line_fen,
        product_max_fen=product.max_line_fen,
        other_lines_fen=(
            repository.lines_of_person(session, holder.person_index, besides=state.ref)
            if holder is not None
            else 0
        ),
        verified_income_monthly_fen=(
            holder.verified_income_monthly_fen if holder is not None else None
        ),
        dpd_now=int(row.values.get("dpd_now", state.days_past_due)),
        dpd_max_12m=int(row.values.get("dpd_max_12m", state.days_past_due)),
        last_change_on=last.effective_on if last is not None else None,
        last_change_direction=(
            0 if last is None else (1 if last.new_line_fen > last.old_line_fen else -1)
        ),
        increases_in_cycle=len(increases),
        sub_lines=repository.sub_lines_of(session, account_id),
    )


def _bare_standing(state: AccountState, sub_lines: dict[str, int]) -> Standing:
    return Standing(
        status=state.status,
        line_fen=state.line_fen,
        outstanding_principal_fen=state.outstanding_principal_fen,
        product_min_fen=0,
        product_max_fen=state.line_fen,
        other_lines_fen=0,
        verified_income_monthly_fen=None,
        dpd_now=state.days_past_due,
        dpd_max_12m=state.days_past_due,
        sub_lines=sub_lines,
    )


def _settle_with_pending(session: Session, account_id: int, disposal: Disposal) -> Disposal:
    """A cut already announced is not announced again: the same scheduled change keeps
    its date."""
    pending = repository.pending_of(session, account_id)
    if (
        pending is not None
        and disposal.timing is Timing.SCHEDULED
        and (pending.action, pending.line_fen) == (disposal.action, disposal.line_fen)
    ):
        return replace(disposal, effective_on=pending.effective_on)
    return disposal


def _apply(
    session: Session,
    clock: Clock,
    ref: str,
    account_id: int,
    standing: Standing,
    disposal: Disposal,
    recorded: LineDecision,
) -> None:
    pending = repository.pending_of(session, account_id)
    if disposal.timing is Timing.SCHEDULED:
        announced = pending is not None and (pending.effective_on, pending.line_fen) == (
            disposal.effective_on,
            disposal.line_fen,
        )
        if not announced:
            _settle(pending, PendingState.CANCELLED, recorded)
            repository.add(
                session,
                PendingChange(
                    credit_account_id=account_id,
                    decision_id=recorded.id,
                    action=disposal.action,
                    line_fen=disposal.line_fen,
                    status=disposal.status,
                    effective_on=disposal.effective_on,
                    state=PendingState.PENDING.value,
                ),
            )
        return
    if disposal.action in ("keep", "increase"):
        _settle(pending, PendingState.CANCELLED, recorded)
    if disposal.timing is Timing.NOW:
        _change(session, clock, ref, account_id, standing, disposal, recorded.id)


def _change(
    session: Session,
    clock: Clock,
    ref: str,
    account_id: int,
    standing: Standing,
    disposal: Disposal,
    decision_id: int,
) -> None:
    if disposal.line_fen != standing.line_fen:
        servicing.change_line(
            session, clock, ref=ref, line_fen=disposal.line_fen, decision_id=decision_id
        )
    if disposal.status != standing.status:
        servicing.set_status(
            session, clock, ref=ref, status=AccountStatus(disposal.status), decision_id=decision_id
        )
    if disposal.sub_lines != dict(standing.sub_lines):
        repository.replace_sub_lines(
            session,
            credit_account_id=account_id,
            sub_lines=disposal.sub_lines,
            decision_id=decision_id,
        )


def _settle(pending: PendingChange | None, state: PendingState, by: LineDecision) -> None:
    if pending is not None:
        pending.state = state.value
        pending.settled_by_decision_id = by.id


def _apply_pending(session: Session, clock: Clock, pending: PendingChange) -> None:
    announced = repository.get_decision(session, pending.decision_id)
    assert announced is not None and announced.account_ref is not None  # foreign key, account
    ref = announced.account_ref
    state = servicing.account_state(session, ref=ref, as_of=clock.today())
    standing = _bare_standing(state, repository.sub_lines_of(session, pending.credit_account_id))
    adjustments = [
        Adjustment(
            "notice",
            "NOTICE",
            f"announced on {announced.as_of} by {announced.decision_ref}, "
            f"effective {pending.effective_on}",
        )
    ]
    line = pending.line_fen
    if pending.status != CLOSED and line < state.outstanding_principal_fen:
        line = state.outstanding_principal_fen
        adjustments.append(
            Adjustment(
                "principal_floor",
                "PRINCIPAL_FLOOR",
                f"the announced line {format_yuan(pending.line_fen)} is below the outstanding "
                f"principal now: held at {format_yuan(line)}",
            )
        )
    reasons = json.loads(announced.reasons_json)
    if len(adjustments) > 1:
        reasons = [_line_reason("PRINCIPAL_FLOOR"), *reasons][:MAX_REASONS]
    disposal = Disposal(
        action=pending.action,
        line_fen=min(line, state.line_fen),
        status=pending.status,
        timing=Timing.NOW,
        effective_on=clock.today(),
        sub_lines={} if pending.status == CLOSED else dict(standing.sub_lines),
        adjustments=tuple(adjustments),
        reasons=tuple(r["code"] for r in reasons),
    )
    recorded = _write(
        session,
        clock,
        trigger=Trigger.NOTICE_DUE,
        trigger_ref=announced.decision_ref,
        account_ref=ref,
        source=announced,
        standing=standing,
        disposal=disposal,
        reasons=reasons,
    )
    _settle(pending, PendingState.APPLIED, recorded)
    _change(session, clock, ref, pending.credit_account_id, standing, disposal, recorded.id)


def _operator_action(state: AccountState, line_fen: int, status: str) -> str:
    if status == CLOSED:
        return "close"
    if status == "frozen":
        return "freeze"
    if line_fen > state.line_fen:
        return "increase"
    if line_fen < state.line_fen:
        return "decrease"
    return "keep"


def _line_reason(code: str) -> dict[str, str]:
    text = LINE_REASONS[code]
    return {"code": code, "en": text.en, "zh": text.zh}


def _reason_dicts(codes: tuple[str, ...], decision: Decision) -> list[dict[str, str]]:
    """Texts of the line service's own codes, else the policy's."""
    texts = decision.policy.reason_texts
    return [
        _line_reason(code)
        if code in LINE_REASONS
        else {"code": code, "en": texts[code].en, "zh": texts[code].zh}
        for code in codes
    ]


def _record(
    session: Session,
    clock: Clock,
    *,
    trigger: Trigger,
    trigger_ref: str,
    account_ref: str | None,
    application_ref: str | None,
    row: FeatureRow,
    decision: Decision,
    standing: Standing,
    disposal: Disposal,
) -> LineDecision:
    """A policy decision and its disposal, with everything the policy saw."""
    trace = [
        {
            "node": t.node,
            "kind": t.kind,
            "ran": t.ran,
            "matched": list(t.matched),
            "values": t.values,
        }
        for t in decision.trace
    ]
    if disposal.action == "keep" and trigger is not Trigger.APPLICATION:
        disposal = replace(
            disposal, adjustments=(*disposal.adjustments, *_increase_blockers(decision))
        )
    return _write(
        session,
        clock,
        trigger=trigger,
        trigger_ref=trigger_ref,
        account_ref=account_ref,
        application_ref=application_ref,
        source=LineDecision(
            policy_key=decision.policy_key,
            policy_version=decision.policy_version,
            policy_hash=decision.policy_hash,
            scorecards_json=_json(
                [{"policy_expects": name} for name in decision.scorecards]
                + [{"scored": version, "score": points} for version, points in row.scores.items()]
            ),
            features_json=_json(decision.inputs),
            missing_json=_json(list(row.missing)),
            trace_json=_json(trace),
            proposed_action=decision.action,
            proposed_line_fen=decision.line_fen,
            notice=decision.notice,
        ),
        standing=standing,
        disposal=disposal,
        reasons=_reason_dicts(disposal.reasons, decision),
    )


def _increase_blockers(decision: Decision) -> list[Adjustment]:
    """What kept the line from growing: every policy node that can raise a line and did not,
    with the condition it needed and the values it saw (borrowers ask "why not more?")."""
    ran = {step.node: step for step in decision.trace}
    blockers = []
    for node in decision.policy.bundle.nodes:
        needs = _increase_conditions(node)
        step = ran.get(node.id)
        if not needs or step is None or step.matched:
            continue
        seen = ", ".join(f"{k}={v}" for k, v in sorted(step.values.items()) if k != "segment")
        wanted = f"when {node.when}" if not step.ran and node.when else " or ".join(needs)
        blockers.append(
            Adjustment("no_increase", "", f"{node.id} needs {wanted}; saw {seen}"[:500])
        )
    return blockers


def _increase_conditions(node: Node) -> list[str]:
    """The conditions under which a node raises the line, as the analyst wrote them."""
    if isinstance(node, TableNode):
        return [
            "("
            + ", ".join(f"{i} {c}" for i, c in zip(node.inputs, row.when, strict=True) if c != "-")
            + ")"
            for row in node.rows
            if row.then.action == "increase"
        ]
    if isinstance(node, RulesetNode):
        return [f"({rule.when})" for rule in node.rules if rule.then.action == "increase"]
    return []


def _record_operator(
    session: Session, clock: Clock, ref: str, standing: Standing, disposal: Disposal
) -> LineDecision:
    return _write(
        session,
        clock,
        trigger=Trigger.MANUAL,
        trigger_ref=disposal.adjustments[0].detail,
        account_ref=ref,
        source=LineDecision(
            policy_key=OPERATOR_POLICY,
            policy_version="-",
            policy_hash="-",
            scorecards_json="[]",
            features_json="{}",
            missing_json="[]",
            trace_json="[]",
            proposed_action=disposal.action,
            proposed_line_fen=disposal.line_fen,
            notice=None,
        ),
        standing=standing,
        disposal=disposal,
        reasons=[_line_reason(code) for code in disposal.reasons],
    )


def _write(
    session: Session,
    clock: Clock,
    *,
    trigger: Trigger,
    trigger_ref: str,
    account_ref: str | None,
    source: LineDecision,
    standing: Standing,
    disposal: Disposal,
    reasons: list[dict[str, str]],
    application_ref: str | None = None,
) -> LineDecision:
    """Append a decision: the policy's side from ``source``, the applied side from the
    disposal."""
    record = LineDecision(
        decision_ref=new_id("dec"),
        trigger=trigger.value,
        trigger_ref=trigger_ref[:128],
        account_ref=account_ref,
        application_ref=application_ref,
        as_of=clock.today(),
        policy_key=source.policy_key,
        policy_version=source.policy_version,
        policy_hash=source.policy_hash,
        scorecards_json=source.scorecards_json,
        features_json=source.features_json,
        missing_json=source.missing_json,
        trace_json=source.trace_json,
        proposed_action=source.proposed_action,
        proposed_line_fen=source.proposed_line_fen,
        action=disposal.action,
        old_line_fen=standing.line_fen,
        new_line_fen=disposal.line_fen,
        old_status=standing.status,
        new_status=disposal.status,
        timing=disposal.timing.value,
        effective_on=disposal.effective_on,
        reasons_json=_json(reasons),
        notice=source.notice,
        sub_lines_json=_json(disposal.sub_lines),
        adjustments_json=_json([a.to_dict() for a in disposal.adjustments]),
        created_at=clock.now(),
    )
    repository.add(session, record)
    return record


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
