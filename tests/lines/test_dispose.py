"""The disposal: caps, notice and guards over plain rows (no database)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from limitwise.lines.dispose import Proposal, Standing, dispose, dispose_one
from limitwise.lines.models import Timing
from limitwise.lines.rules import LineRules

AS_OF = dt.date(2026, 6, 1)
RULES = LineRules()
YUAN = 100


def standing(**overrides: object) -> Standing:
    base: dict[str, object] = {
        "status": "active",
        "line_fen": 20_000 * YUAN,
        "outstanding_principal_fen": 0,
        "product_min_fen": 1_000 * YUAN,
        "product_max_fen": 300_000 * YUAN,
        "other_lines_fen": 0,
        "verified_income_monthly_fen": 20_000 * YUAN,
        "dpd_now": 0,
        "dpd_max_12m": 0,
    }
    return Standing(**(base | overrides))  # type: ignore[arg-type]


def decide(action: str, line_yuan: int, *reasons: str, **overrides: object):
    proposal = Proposal(action, line_yuan * YUAN, reasons or ("GOOD_HISTORY",), None)
    return dispose_one(proposal, standing(**overrides), rules=RULES, as_of=AS_OF)


def test_an_increase_is_capped_by_the_step_then_by_the_customer_cap():
    stepped = decide("increase", 90_000)
    assert (stepped.line_fen, stepped.timing) == (40_000 * YUAN, Timing.NOW)
    assert [a.guard for a in stepped.adjustments] == ["step_cap"]
    capped = decide("increase", 90_000, other_lines_fen=170_000 * YUAN)
    assert capped.line_fen == 30_000 * YUAN
    assert [a.guard for a in capped.adjustments] == ["step_cap", "per_customer_cap"]
    assert capped.reasons[:2] == ("STEP_CAP", "CUSTOMER_CAP")


def test_an_increase_is_held_by_the_cool_down_and_the_cycle_limit():
    cooled = decide("increase", 25_000, last_change_on=AS_OF - dt.timedelta(days=10))
    assert (cooled.action, cooled.line_fen, cooled.timing) == ("keep", 20_000 * YUAN, Timing.NONE)
    assert cooled.reasons == ("COOL_DOWN", "GOOD_HISTORY")
    limited = decide("increase", 25_000, increases_in_cycle=1)
    assert (limited.action, limited.reasons[0]) == ("keep", "INCREASE_LIMIT")


def test_a_non_urgent_cut_waits_for_notice_and_a_severe_one_acts_at_once():
    cut = decide("decrease", 10_000, "MULTI_LENDER")
    assert (cut.timing, cut.effective_on) == (Timing.SCHEDULED, AS_OF + dt.timedelta(days=7))
    severe = decide("decrease", 10_000, "DPD_NOW", dpd_now=31, dpd_max_12m=31)
    assert (severe.timing, severe.effective_on, severe.line_fen) == (
        Timing.NOW,
        AS_OF,
        10_000 * YUAN,
    )


def test_one_minor_late_payment_cured_does_not_cut():
    held = decide("decrease", 10_000, "DPD_HISTORY", dpd_max_12m=2)
    assert (held.action, held.reasons[0]) == ("keep", "MINOR_LATE")
    real = decide("decrease", 10_000, "DPD_HISTORY", dpd_max_12m=9)
    assert real.action == "decrease"


def test_hysteresis_holds_a_small_reversal():
    small = decide("decrease", 19_000, "INACTIVE", last_change_direction=1)
    assert (small.action, small.reasons[0]) == ("keep", "HYSTERESIS")
    large = decide("decrease", 15_000, "INACTIVE", last_change_direction=1)
    assert large.action == "decrease"


def test_a_cut_never_goes_below_the_outstanding_principal():
    floored = decide("decrease", 5_000, "MULTI_LENDER", outstanding_principal_fen=12_000 * YUAN)
    assert floored.line_fen == 12_000 * YUAN
    assert floored.reasons[0] == "PRINCIPAL_FLOOR"


def test_an_approval_over_the_income_cap_is_capped_and_one_under_the_minimum_declined():
    approved = decide(
        "approve", 300_000, status="none", line_fen=0, verified_income_monthly_fen=10_000 * YUAN
    )
    assert approved.line_fen == 120_000 * YUAN  # 12 months of 10,000
    assert {a.guard for a in approved.adjustments} == {"per_customer_cap", "income_cap"}
    tiny = decide("approve", 2_000, status="none", line_fen=0, other_lines_fen=199_500 * YUAN)
    assert (tiny.action, tiny.line_fen) == ("decline", 0)
    assert "PRODUCT_MIN" in tiny.reasons


def test_sub_lines_stay_inside_the_line_and_a_revaluation_cut_names_its_reason():
    proposal = Proposal("keep", 20_000 * YUAN, (), None, {"car_owner": 8_000 * YUAN})
    result = dispose_one(
        proposal, standing(sub_lines={"car_owner": 9_600 * YUAN}), rules=RULES, as_of=AS_OF
    )
    assert result.sub_lines == {"car_owner": 8_000 * YUAN}
    assert result.reasons == ("VEHICLE_REVALUED",)
    assert result.timing is Timing.NOW


actions = st.sampled_from(["approve", "increase", "keep", "decrease", "freeze", "close"])
money = st.integers(min_value=0, max_value=400_000 * YUAN)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            actions,
            money,
            money,
            money,
            money,
            st.integers(0, 120),
            st.sampled_from(["active", "frozen"]),
            st.one_of(st.none(), st.integers(0, 100_000 * YUAN)),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_no_cap_is_exceeded_and_every_change_has_one_to_four_reasons(rows):
    pairs = []
    for action, proposed, line, principal, others, dpd, status, income in rows:
        line = min(line, 300_000 * YUAN)
        new = action == "approve"
        pairs.append(
            (
                Proposal(action, proposed, ("DPD_NOW",) if dpd else (), None),
                standing(
                    status="none" if new else status,
                    line_fen=0 if new else line,
                    outstanding_principal_fen=0 if new else min(principal, line),
                    other_lines_fen=others,
                    dpd_now=dpd,
                    dpd_max_12m=dpd,
                    verified_income_monthly_fen=income,
                ),
            )
        )
    for (proposal, before), after in zip(
        pairs, dispose(pairs, rules=RULES, as_of=AS_OF), strict=True
    ):
        changed = (after.line_fen, after.status) != (before.line_fen, before.status)
        if changed:
            assert 1 <= len(after.reasons) <= 4
            assert after.timing in (Timing.NOW, Timing.SCHEDULED)
        if after.line_fen > before.line_fen:  # grown: inside every cap
            assert after.line_fen <= before.product_max_fen
            assert after.line_fen + before.other_lines_fen <= RULES.per_customer_cap_fen
            if before.verified_income_monthly_fen is not None:
                assert after.line_fen <= before.verified_income_monthly_fen * 12
            assert after.line_fen <= proposal.line_fen
        if after.status not in ("closed", "frozen"):
            assert after.line_fen >= before.outstanding_principal_fen
        if after.line_fen < proposal.line_fen and proposal.action in ("approve", "increase"):
            assert after.adjustments, (
                "the applied line differs from the proposal only with a reason"
            )
