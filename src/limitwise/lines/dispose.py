"""The policy proposes, the line service disposes: caps, timing and stability guards.

Pure functions over plain rows, so one account after an event and the whole book in a
review run the same code (:func:`dispose` takes one row or many). Every way the applied
outcome differs from the proposal is an :class:`Adjustment` naming the guard or cap, its
reason code (see :mod:`.reasons`) and the figures it used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from limitwise.kit.money import format_yuan
from limitwise.lines.models import Timing
from limitwise.lines.rules import LineRules

#: Status of an applicant before the decision, and after a decline.
NO_ACCOUNT = "none"
ACTIVE, FROZEN, CLOSED = "active", "frozen", "closed"
MAX_REASONS = 4


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the policy decided for one applicant or account."""

    action: str
    line_fen: int
    reasons: tuple[str, ...]
    notice: str | None
    sub_lines: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Standing:
    """What the guards and caps read about the applicant or account."""

    status: str
    line_fen: int
    outstanding_principal_fen: int
    product_min_fen: int
    product_max_fen: int
    #: The same person's lines on their other accounts (for the per-customer cap).
    other_lines_fen: int
    verified_income_monthly_fen: int | None
    dpd_now: int
    dpd_max_12m: int
    last_change_on: dt.date | None = None
    #: +1 when the last applied change raised the line, -1 when it cut it, 0: none yet.
    last_change_direction: int = 0
    increases_in_cycle: int = 0
    sub_lines: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Adjustment:
    guard: str
    reason: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"guard": self.guard, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Disposal:
    """What is applied: the action, line, status and sub-lines, when, and why it differs."""

    action: str
    line_fen: int
    status: str
    timing: Timing
    effective_on: dt.date
    sub_lines: dict[str, int]
    adjustments: tuple[Adjustment, ...]
    reasons: tuple[str, ...]


def dispose(
    rows: Iterable[tuple[Proposal, Standing]], *, rules: LineRules, as_of: dt.date
) -> list[Disposal]:
    """Dispose of every proposal, one row or a whole book."""
    return [
        dispose_one(proposal, standing, rules=rules, as_of=as_of) for proposal, standing in rows
    ]


def dispose_one(
    proposal: Proposal, standing: Standing, *, rules: LineRules, as_of: dt.date
) -> Disposal:
    if standing.status == CLOSED:
        return _unchanged(standing, as_of, (), proposal.reasons)
    if proposal.action == "approve":
        return _approve(proposal, standing, rules, as_of)
    if proposal.action == "decline":
        return _unchanged(standing, as_of, (), proposal.reasons, action="decline")
    if proposal.action == "freeze":
        return _finish(proposal, standing, as_of, "freeze", standing.line_fen, FROZEN, ())
    if proposal.action == "increase":
        return _increase(proposal, standing, rules, as_of)
    if proposal.action in ("decrease", "close"):
        return _cut(proposal, standing, rules, as_of)
    return _keep(proposal, standing, as_of, ())


# --- actions ---------------------------------------------------------------------------------


def _approve(proposal: Proposal, standing: Standing, rules: LineRules, as_of: dt.date) -> Disposal:
    line, adjustments = _cap(proposal.line_fen, standing, rules)
    if line < max(standing.product_min_fen, 1):
        floor = Adjustment(
            "product_min",
            "PRODUCT_MIN",
            f"{format_yuan(line)} after caps is below the product minimum "
            f"{format_yuan(standing.product_min_fen)}: declined",
        )
        return _unchanged(
            standing, as_of, (*adjustments, floor), proposal.reasons, action="decline"
        )
    return _finish(proposal, standing, as_of, "approve", line, ACTIVE, tuple(adjustments))


def _increase(proposal: Proposal, standing: Standing, rules: LineRules, as_of: dt.date) -> Disposal:
    held = _cool_down(standing, rules, as_of) or _cycle_limit(standing, rules)
    if held is None and standing.last_change_direction < 0:
        held = _hysteresis(proposal.line_fen, standing, rules)
    if held is not None:
        return _keep(proposal, standing, as_of, (held,))
    step = max(standing.line_fen * rules.max_increase_pct // 100, rules.increase_floor_fen)
    adjustments: list[Adjustment] = []
    line = proposal.line_fen
    if line > standing.line_fen + step:
        line = standing.line_fen + step
        adjustments.append(
            Adjustment(
                "step_cap",
                "STEP_CAP",
                f"the policy proposed {format_yuan(proposal.line_fen)}; one increase adds at most "
                f"{format_yuan(step)} (max({rules.max_increase_pct}% of the line, "
                f"{format_yuan(rules.increase_floor_fen)}))",
            )
        )
    line, caps = _cap(line, standing, rules)
    adjustments += caps
    if line <= standing.line_fen:
        return _keep(proposal, standing, as_of, tuple(adjustments))
    return _finish(proposal, standing, as_of, "increase", line, ACTIVE, tuple(adjustments))


def _cut(proposal: Proposal, standing: Standing, rules: LineRules, as_of: dt.date) -> Disposal:
    severe = standing.dpd_now > rules.severe_dpd or any(
        r in rules.severe_reasons for r in proposal.reasons
    )
    if not severe:
        held = (
            _minor_late(proposal, standing, rules)
            or _cool_down(standing, rules, as_of)
            or (
                _hysteresis(proposal.line_fen, standing, rules)
                if standing.last_change_direction > 0 and proposal.action == "decrease"
                else None
            )
        )
        if held is not None:
            return _keep(proposal, standing, as_of, (held,))
    adjustments: tuple[Adjustment, ...] = ()
    if proposal.action == "close":
        line, status = 0, CLOSED
    else:
        line, status = proposal.line_fen, ACTIVE
        if line < standing.outstanding_principal_fen:
            adjustments = (
                Adjustment(
                    "principal_floor",
                    "PRINCIPAL_FLOOR",
                    f"the policy proposed {format_yuan(line)}, below the outstanding principal "
                    f"{format_yuan(standing.outstanding_principal_fen)}: the line stays at the "
                    "principal, so no new draws (no over-limit fee is ever charged)",
                ),
            )
            line = standing.outstanding_principal_fen
        if line >= standing.line_fen:
            return _keep(proposal, standing, as_of, adjustments)
    disposal = _finish(proposal, standing, as_of, proposal.action, line, status, adjustments)
    if severe or rules.notice_days == 0:
        return disposal
    return replace(
        disposal,
        timing=Timing.SCHEDULED,
        effective_on=as_of + dt.timedelta(days=rules.notice_days),
    )


def _keep(
    proposal: Proposal, standing: Standing, as_of: dt.date, adjustments: tuple[Adjustment, ...]
) -> Disposal:
    """Leave the line; a frozen account the policy no longer freezes is opened again."""
    if standing.status == FROZEN:
        cleared = Adjustment("unfreeze", "RISK_CLEARED", "the policy no longer freezes the line")
        adjustments = (*adjustments, cleared)
    status = ACTIVE if standing.status == FROZEN else standing.status
    return _finish(proposal, standing, as_of, "keep", standing.line_fen, status, adjustments)


# --- guards and caps -------------------------------------------------------------------------


def _cap(line_fen: int, standing: Standing, rules: LineRules) -> tuple[int, list[Adjustment]]:
    """The line under the product maximum, the per-customer cap and the income cap; each
    cap that bites is an adjustment."""
    caps = [
        ("product_max", "PRODUCT_CAP", standing.product_max_fen, "the product maximum"),
        (
            "per_customer_cap",
            "CUSTOMER_CAP",
            max(rules.per_customer_cap_fen - standing.other_lines_fen, 0),
            f"the per-customer cap {format_yuan(rules.per_customer_cap_fen)} less "
            f"{format_yuan(standing.other_lines_fen)} of lines on other products",
        ),
    ]
    if standing.verified_income_monthly_fen is not None:
        income_cap = int(standing.verified_income_monthly_fen * rules.income_cap_months)
        caps.append(
            (
                "income_cap",
                "INCOME_CAP",
                income_cap,
                f"{rules.income_cap_months} months of verified income "
                f"{format_yuan(standing.verified_income_monthly_fen)}",
            )
        )
    adjustments = []
    for guard, reason, cap_fen, what in caps:
        if line_fen > cap_fen:
            adjustments.append(
                Adjustment(
                    guard,
                    reason,
                    f"{format_yuan(line_fen)} capped at {format_yuan(cap_fen)}: {what}",
                )
            )
            line_fen = cap_fen
    return line_fen, adjustments


def _cool_down(standing: Standing, rules: LineRules, as_of: dt.date) -> Adjustment | None:
    last = standing.last_change_on
    if last is None or (as_of - last).days >= rules.cool_down_days:
        return None
    return Adjustment(
        "cool_down",
        "COOL_DOWN",
        f"the line last changed on {last}, less than {rules.cool_down_days} days ago",
    )


def _cycle_limit(standing: Standing, rules: LineRules) -> Adjustment | None:
    if standing.increases_in_cycle < rules.max_increases_per_cycle:
        return None
    return Adjustment(
        "increases_per_cycle",
        "INCREASE_LIMIT",
        f"{standing.increases_in_cycle} increase(s) in the last {rules.cycle_days} days "
        f"(at most {rules.max_increases_per_cycle})",
    )


def _hysteresis(target_fen: int, standing: Standing, rules: LineRules) -> Adjustment | None:
    """A change against the last one's direction must be worth at least the band."""
    band = standing.line_fen * rules.hysteresis_pct // 100
    if abs(target_fen - standing.line_fen) >= band:
        return None
    return Adjustment(
        "hysteresis",
        "HYSTERESIS",
        f"a move of {format_yuan(abs(target_fen - standing.line_fen))} reverses the last change "
        f"but is less than {rules.hysteresis_pct}% of the line ({format_yuan(band)})",
    )


def _minor_late(proposal: Proposal, standing: Standing, rules: LineRules) -> Adjustment | None:
    only_lateness = bool(proposal.reasons) and set(proposal.reasons) <= set(rules.lateness_reasons)
    minor = standing.dpd_now == 0 and standing.dpd_max_12m <= rules.minor_late_max_dpd
    if proposal.action != "decrease" or not (only_lateness and minor):
        return None
    return Adjustment(
        "minor_late",
        "MINOR_LATE",
        f"nothing is overdue now and no payment was more than {rules.minor_late_max_dpd} "
        "day(s) late in 12 months",
    )


# --- assembling ------------------------------------------------------------------------------


def _finish(
    proposal: Proposal,
    standing: Standing,
    as_of: dt.date,
    action: str,
    line_fen: int,
    status: str,
    adjustments: tuple[Adjustment, ...],
) -> Disposal:
    sub_lines, sub_adjustments = _sub_lines(proposal, standing, action, line_fen)
    adjustments = (*adjustments, *sub_adjustments)
    changed = line_fen != standing.line_fen or status != standing.status
    changed = changed or sub_lines != dict(standing.sub_lines)
    reasons = _reasons(adjustments, proposal.reasons, changed=changed)
    return Disposal(
        action=action,
        line_fen=line_fen,
        status=status,
        timing=Timing.NOW if changed else Timing.NONE,
        effective_on=as_of,
        sub_lines=sub_lines,
        adjustments=adjustments,
        reasons=reasons,
    )


def _unchanged(
    standing: Standing,
    as_of: dt.date,
    adjustments: tuple[Adjustment, ...],
    policy_reasons: tuple[str, ...],
    *,
    action: str = "keep",
) -> Disposal:
    return Disposal(
        action=action,
        line_fen=standing.line_fen,
        status=standing.status,
        timing=Timing.NONE,
        effective_on=as_of,
        sub_lines=dict(standing.sub_lines),
        adjustments=adjustments,
        reasons=_reasons(adjustments, policy_reasons, changed=False),
    )


def _sub_lines(
    proposal: Proposal, standing: Standing, action: str, line_fen: int
) -> tuple[dict[str, int], list[Adjustment]]:
    """Sub-lines follow the policy when it grants or reviews one, never above the line;
    a closed or frozen line keeps the ones it had (inside the line)."""
    if action in ("close",):
        return {}, []
    wanted = dict(proposal.sub_lines) if action != "freeze" else dict(standing.sub_lines)
    wanted = {name: amount for name, amount in wanted.items() if amount > 0}
    adjustments: list[Adjustment] = []
    for name, amount in sorted(wanted.items()):
        if amount > line_fen:
            adjustments.append(
                Adjustment(
                    "sub_line_inside_line",
                    "PRODUCT_CAP",
                    f"sub-line {name} {format_yuan(amount)} held inside the line "
                    f"{format_yuan(line_fen)}",
                )
            )
            wanted[name] = line_fen
        before = standing.sub_lines.get(name)
        if before is not None and wanted[name] < before:
            adjustments.append(
                Adjustment(
                    "sub_line_revalued",
                    "VEHICLE_REVALUED",
                    f"sub-line {name} from {format_yuan(before)} to {format_yuan(wanted[name])}",
                )
            )
    return wanted, adjustments


def _reasons(
    adjustments: Iterable[Adjustment], policy_reasons: tuple[str, ...], *, changed: bool
) -> tuple[str, ...]:
    """The line service's reasons first (they explain the applied outcome), then the
    policy's, at most four; a change the policy gave no reason for is ``GRANTED``."""
    codes: list[str] = []
    for code in [a.reason for a in adjustments] + list(policy_reasons):
        if code not in codes:
            codes.append(code)
    if changed and not codes:
        codes.append("GRANTED")
    return tuple(codes[:MAX_REASONS])
