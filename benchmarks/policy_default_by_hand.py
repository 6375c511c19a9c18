"""The default policy (policies/default.yaml) written out by hand three times, as baselines
for benchmarks/policy_eval.py: plain Python, DuckDB SQL and a zen-engine JDM graph.

Each returns action, line_fen, reason_mask, notice and the car-owner sub-line; the
benchmark checks all three agree with the policy engine before timing anything.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from itertools import pairwise
from typing import Any

import numpy as np
import polars as pl

# Reason bits: position in the policy's reason catalogue.
FRAUD, KYC, AGE, DPD_SEVERE, DPD_NOW, DPD_RECENT, DPD_HISTORY, MULTI_LENDER = range(8)
DRAW_BURST, DEVICE, SCORE_LOW, BUREAU_LOW, INCOME_LOW, INACTIVE, HIGH_UTIL = range(8, 15)
GOOD_HISTORY, CAR_OWNER = 15, 16
SCORE_BREAKS = [620, 660, 700, 740, 780]
INCOME_BREAKS = [500000, 1000000, 2000000, 5000000]
MULTIPLES = [
    [0.0, 0.5, 0.8, 1.0, 1.2],
    [0.5, 1.0, 1.5, 1.8, 2.0],
    [1.0, 1.5, 2.0, 2.5, 3.0],
    [1.5, 2.0, 3.0, 3.5, 4.0],
    [2.0, 3.0, 4.0, 5.0, 6.0],
    [2.5, 4.0, 5.0, 6.0, 8.0],
]
STEP, LINE_MAX = 10000, 30000000


def step_round(x: float) -> int:
    return max(0, min(LINE_MAX, math.floor(x / STEP + 0.5) * STEP))


def decide(f: dict[str, Any]) -> tuple[str, int, int, str | None, int]:
    """The default policy in plain Python: (action, line_fen, reason_mask, notice, car)."""
    new = f["segment"] == "new"
    score = f["app_score"] if new else f["behaviour_score"]
    current = line = f["current_line_fen"]
    income = f["verified_income_monthly_fen"]
    if new:
        knockout = (
            FRAUD
            if f["fraud_flag"]
            else KYC
            if not f["kyc_verified"]
            else AGE
            if not 22 <= f["age_years"] <= 55
            else DPD_HISTORY
            if f["dpd_now"] > 0 or f["dpd_max_12m"] > 30
            else MULTI_LENDER
            if f["multi_lender_count"] >= 6
            else BUREAU_LOW
            if f["bureau_score"] < 550
            else SCORE_LOW
            if score < 580
            else None
        )
        if knockout is not None:
            return "decline", line, 1 << knockout, "decline", 0
        multiple = MULTIPLES[bisect_right(SCORE_BREAKS, score)][bisect_right(INCOME_BREAKS, income)]
    else:
        multiple = 0.0
    target = math.floor(income * multiple * f["risk_appetite"] / 10000 + 0.5) * 10000
    few_lenders = f["multi_lender_count"] <= 2
    cap = min(income * 12, 20000000) if few_lenders else min(income * 6, 10000000)
    action, mask, notice = "keep", 0, None
    if new:
        if target < 100000:
            return "decline", line, 1 << INCOME_LOW, "decline", 0
        action, notice, line = "approve", "welcome", step_round(min(target, cap))
    else:
        dpd = f["dpd_now"]
        worst = -1
        if dpd >= 90:
            worst, mask, notice, line = 6, mask | 1 << DPD_SEVERE, "closure", 0
        if 31 <= dpd <= 89:
            worst, mask, notice = max(worst, 5), mask | 1 << DPD_NOW, "freeze"
        if 4 <= dpd <= 30:
            worst, mask, notice = max(worst, 3), mask | 1 << DPD_NOW, "line_cut"
            line = step_round(line * 50 / 100)
        if dpd <= 3 and f["dpd_max_3m"] > 30:
            worst, mask, notice = max(worst, 3), mask | 1 << DPD_RECENT, "line_cut"
            line = step_round(line * 70 / 100)
        if f["multi_lender_count"] >= 8:
            worst, mask, notice = max(worst, 3), mask | 1 << MULTI_LENDER, "line_cut"
            line = step_round(line * 80 / 100)
        if f["draws_last_7d"] >= 15:
            worst, mask, notice = max(worst, 5), mask | 1 << DRAW_BURST, "freeze"
        if worst >= 0:
            action = ("approve", "increase", "keep", "decrease", "decline", "freeze", "close")[
                worst
            ]
            if dpd >= 31 or f["draws_last_7d"] >= 15:
                return action, line, mask, notice, 0
        if (f["device_anomaly"] or f["login_anomaly"]) and score < 600:
            return "freeze", line, mask | 1 << DEVICE, "freeze", 0
        if action == "keep":
            inactive = f["months_since_last_activity"]
            if inactive >= 24 and current > 0:
                return "close", 0, mask | 1 << INACTIVE, "closure", 0
            if inactive >= 12:
                action, mask, notice = "decrease", mask | 1 << INACTIVE, "line_cut"
                line = step_round(max(line * 0.5, 100000))
        if action == "keep" and f["months_since_last_line_change"] >= 3 and f["dpd_max_12m"] == 0:
            streak, util = f["on_time_streak_months"], f["utilisation_avg_6m"]
            if streak >= 6 and score >= 720:
                action, mask, notice = "increase", mask | 1 << GOOD_HISTORY, "line_raise"
                pct = 30 * f["risk_appetite"] if util > 0.5 else 10
                line = step_round(line * (100 + pct) / 100)
            elif 3 <= streak <= 5 and score >= 680 and util > 0.7:
                action, notice = "increase", "line_raise"
                mask |= 1 << GOOD_HISTORY | 1 << HIGH_UTIL
                line = step_round(line + 200000)
        if action == "increase":
            target = min(line, max(cap, current))
            if target < line:
                line = step_round(target)
    car = 0
    if (
        f["product"] == "car_owner"
        and f["vehicle_value_fen"] > 0
        and action in ("approve", "increase", "keep")
    ):
        car = min(max(math.floor(f["vehicle_value_fen"] * 0.2 / 10000 + 0.5) * 10000, 0), 5000000)
    if car > 0:
        mask |= 1 << CAR_OWNER
    return action, line, mask, notice, car


def synthetic_book(n: int, seed: int = 7) -> pl.DataFrame:
    """A plausible book: 30% applicants, 70% existing lines, with skewed risk signals."""
    rng = np.random.default_rng(seed)
    new = rng.random(n) < 0.3
    dpd_now = np.where(rng.random(n) < 0.9, 0, rng.integers(1, 120, n))
    dpd_3m = np.maximum(dpd_now, np.where(rng.random(n) < 0.85, 0, rng.integers(1, 60, n)))
    dpd_12m = np.maximum(dpd_3m, np.where(rng.random(n) < 0.8, 0, rng.integers(1, 90, n)))
    income = np.round(rng.lognormal(13.9, 0.6, n) / 100).astype(np.int64) * 100
    current = np.where(new, 0, rng.integers(10, 3000, n) * 10000)
    return pl.DataFrame(
        {
            "account_id": np.arange(n, dtype=np.int64),
            "segment": np.where(new, "new", "existing"),
            "product": np.where(rng.random(n) < 0.15, "car_owner", "standard"),
            "age_years": rng.integers(18, 65, n),
            "kyc_verified": rng.random(n) < 0.97,
            "fraud_flag": rng.random(n) < 0.01,
            "app_score": rng.integers(450, 850, n),
            "behaviour_score": rng.integers(450, 850, n),
            "bureau_score": rng.integers(450, 850, n),
            "verified_income_monthly_fen": income,
            "vehicle_value_fen": np.where(rng.random(n) < 0.3, rng.integers(3, 60, n) * 1000000, 0),
            "dpd_now": dpd_now,
            "dpd_max_3m": dpd_3m,
            "dpd_max_12m": dpd_12m,
            "on_time_streak_months": rng.integers(0, 24, n),
            "utilisation_now": rng.random(n),
            "utilisation_avg_6m": rng.random(n),
            "draws_last_7d": rng.poisson(1.5, n) + np.where(rng.random(n) < 0.01, 20, 0),
            "months_since_last_activity": np.where(
                rng.random(n) < 0.9, rng.integers(0, 6, n), rng.integers(6, 40, n)
            ),
            "months_since_last_line_change": rng.integers(0, 24, n),
            "early_payoff_count_12m": rng.poisson(0.5, n),
            "device_anomaly": rng.random(n) < 0.03,
            "login_anomaly": rng.random(n) < 0.03,
            "multi_lender_count": rng.poisson(1.5, n),
            "current_line_fen": current,
            "risk_appetite": np.full(n, 1.0),
        }
    )


def _matrix_sql() -> str:
    values = ", ".join(f"{v!r}::DOUBLE" for row in MULTIPLES for v in row)
    score_band = " + ".join(f"(score >= {b})::INT" for b in SCORE_BREAKS)
    income_band = " + ".join(f"(verified_income_monthly_fen >= {b})::INT" for b in INCOME_BREAKS)
    return f"list_extract([{values}], ({score_band}) * 5 + ({income_band}) + 1)"


def _round_sql(x: str) -> str:
    return f"GREATEST(0, LEAST({LINE_MAX}, CAST(floor(({x}) / {STEP} + 0.5) AS BIGINT) * {STEP}))"


DUCKDB_SQL = f"""
WITH a AS (
  SELECT *, CASE WHEN segment = 'new' THEN app_score ELSE behaviour_score END AS score
  FROM book
), e AS (
  SELECT *, CASE WHEN segment <> 'new' THEN -1
    WHEN fraud_flag THEN {FRAUD} WHEN NOT kyc_verified THEN {KYC}
    WHEN age_years < 22 OR age_years > 55 THEN {AGE}
    WHEN dpd_now > 0 OR dpd_max_12m > 30 THEN {DPD_HISTORY}
    WHEN multi_lender_count >= 6 THEN {MULTI_LENDER} WHEN bureau_score < 550 THEN {BUREAU_LOW}
    WHEN score < 580 THEN {SCORE_LOW} ELSE -1 END AS knockout,
    CASE WHEN multi_lender_count <= 2 THEN LEAST(verified_income_monthly_fen * 12, 20000000)
         ELSE LEAST(verified_income_monthly_fen * 6, 10000000) END AS cap
  FROM a
), n AS (
  SELECT *, CAST(floor(verified_income_monthly_fen * {_matrix_sql()} * risk_appetite / 10000
                 + 0.5) AS BIGINT) * 10000 AS target
  FROM e WHERE segment = 'new'
), new_decided AS (
  SELECT *,
    CASE WHEN knockout >= 0 OR target < 100000 THEN 'decline' ELSE 'approve' END AS action,
    CASE WHEN knockout >= 0 OR target < 100000 THEN current_line_fen
         ELSE {_round_sql("LEAST(target, cap)")} END AS line_fen,
    CASE WHEN knockout >= 0 THEN 1::BIGINT << knockout WHEN target < 100000
         THEN 1::BIGINT << {INCOME_LOW} ELSE 0 END AS mask,
    CASE WHEN knockout >= 0 OR target < 100000 THEN 'decline' ELSE 'welcome' END AS notice,
    knockout < 0 AND target >= 100000 AS open
  FROM n
), r AS (
  SELECT *, dpd_now >= 90 AS m_close, dpd_now BETWEEN 31 AND 89 AS m_freeze,
    dpd_now BETWEEN 4 AND 30 AS m_half, dpd_now <= 3 AND dpd_max_3m > 30 AS m_recent,
    multi_lender_count >= 8 AS m_lenders, draws_last_7d >= 15 AS m_burst
  FROM e WHERE segment = 'existing'
), r2 AS (
  SELECT *,
    CASE WHEN m_close THEN 6 WHEN m_freeze OR m_burst THEN 5
         WHEN m_half OR m_recent OR m_lenders THEN 3 ELSE -1 END AS worst,
    (m_close::BIGINT << {DPD_SEVERE}) | ((m_freeze OR m_half)::BIGINT << {DPD_NOW})
      | (m_recent::BIGINT << {DPD_RECENT}) | (m_lenders::BIGINT << {MULTI_LENDER})
      | (m_burst::BIGINT << {DRAW_BURST}) AS risk_mask,
    CASE WHEN m_burst OR m_freeze AND NOT (m_half OR m_recent OR m_lenders) THEN 'freeze'
         WHEN m_half OR m_recent OR m_lenders THEN 'line_cut'
         WHEN m_close THEN 'closure' END AS risk_notice,
    CASE WHEN m_lenders THEN {
    _round_sql(
        "CASE WHEN m_half THEN "
        + _round_sql("l1 * 50 / 100")
        + " WHEN m_recent THEN "
        + _round_sql("l1 * 70 / 100")
        + " ELSE l1 END * 80 / 100"
    )
}
      WHEN m_half THEN {_round_sql("l1 * 50 / 100")}
      WHEN m_recent THEN {_round_sql("l1 * 70 / 100")} ELSE l1 END AS risk_line
  FROM (SELECT *, CASE WHEN m_close THEN 0 ELSE current_line_fen END AS l1 FROM r)
), r3 AS (
  SELECT *,
    worst IN (5, 6) AS stopped_risk,
    NOT (worst IN (5, 6)) AND (device_anomaly OR login_anomaly) AND score < 600 AS device_freeze,
    CASE WHEN worst >= 0 THEN
      ['approve', 'increase', 'keep', 'decrease', 'decline', 'freeze', 'close'][worst + 1]
      ELSE 'keep' END AS risk_action
  FROM r2
), r4 AS (
  SELECT *,
    NOT stopped_risk AND NOT device_freeze AND risk_action = 'keep' AS calm,
    on_time_streak_months >= 6 AND score >= 720 AS g_steady,
    on_time_streak_months BETWEEN 3 AND 5 AND score >= 680 AND utilisation_avg_6m > 0.7
      AS g_building
  FROM r3
), r5 AS (
  SELECT *,
    calm AND months_since_last_activity >= 24 AND current_line_fen > 0 AS dormant_close,
    calm AND months_since_last_activity >= 12
      AND NOT (months_since_last_activity >= 24 AND current_line_fen > 0) AS dormant_trim,
    calm AND months_since_last_activity < 12 AND months_since_last_line_change >= 3
      AND dpd_max_12m = 0 AND (g_steady OR g_building) AS grow
  FROM r4
), r6 AS (
  SELECT *,
    CASE WHEN NOT grow THEN risk_line
      WHEN g_steady THEN {
    _round_sql(
        "risk_line * (100 + CASE WHEN utilisation_avg_6m > 0.5 THEN 30 * risk_appetite "
        "ELSE 10 END) / 100"
    )
}
      ELSE {_round_sql("risk_line + 200000")} END AS grown
  FROM r5
), existing_decided AS (
  SELECT *,
    CASE WHEN stopped_risk THEN risk_action WHEN device_freeze THEN 'freeze'
         WHEN dormant_close THEN 'close' WHEN dormant_trim THEN 'decrease'
         WHEN grow THEN 'increase' ELSE risk_action END AS action,
    CASE WHEN dormant_close THEN 0
         WHEN dormant_trim THEN {_round_sql("GREATEST(risk_line * 0.5, 100000)")}
         WHEN grow AND LEAST(grown, GREATEST(cap, current_line_fen)) < grown
           THEN {_round_sql("LEAST(grown, GREATEST(cap, current_line_fen))")}
         WHEN grow THEN grown ELSE risk_line END AS line_fen,
    risk_mask | (device_freeze::BIGINT << {DEVICE})
      | ((dormant_close OR dormant_trim)::BIGINT << {INACTIVE})
      | ((grow AND NOT g_steady)::BIGINT << {HIGH_UTIL})
      | (grow::BIGINT << {GOOD_HISTORY}) AS mask,
    CASE WHEN stopped_risk THEN risk_notice WHEN device_freeze THEN 'freeze'
         WHEN dormant_close THEN 'closure' WHEN dormant_trim THEN 'line_cut'
         WHEN grow THEN 'line_raise' ELSE risk_notice END AS notice,
    NOT stopped_risk AND NOT device_freeze AND NOT dormant_close AND (
      CASE WHEN dormant_trim THEN 'decrease' WHEN grow THEN 'increase' ELSE risk_action END
    ) IN ('approve', 'increase', 'keep') AS open
  FROM r6
), decided AS (
  SELECT account_id, action, line_fen, mask, notice, open, product, vehicle_value_fen
  FROM new_decided
  UNION ALL
  SELECT account_id, action, line_fen, mask, notice, open, product, vehicle_value_fen
  FROM existing_decided
)
SELECT account_id, action, line_fen,
  mask | ((car > 0)::BIGINT << {CAR_OWNER}) AS reason_mask, notice, car AS car_line_fen
FROM (
  SELECT *, CASE WHEN open AND product = 'car_owner' AND vehicle_value_fen > 0
    THEN LEAST(GREATEST(CAST(floor(vehicle_value_fen * 0.2 / 10000 + 0.5) AS BIGINT) * 10000, 0),
               5000000) ELSE 0 END AS car
  FROM decided
)
"""


def _rnd(x: str) -> str:
    return f"max([0, min([{LINE_MAX}, floor(({x}) / {STEP} + 0.5) * {STEP}])])"


def _cell(lo: float | None, hi: float | None) -> str:
    if lo is None:
        return f"< {hi}"
    return f">= {lo}" if hi is None else f">= {lo} and < {hi}"


def _bands(breaks: list[int]) -> list[str]:
    edges: list[int | None] = [None, *breaks, None]
    return [_cell(lo, hi) for lo, hi in pairwise(edges)]


def _table(
    node_id: str, inputs: list[str], output: str, rows: list[tuple[list[str], str]]
) -> dict[str, Any]:
    return {
        "id": node_id,
        "name": node_id,
        "type": "decisionTableNode",
        "position": {"x": 0, "y": 0},
        "content": {
            "hitPolicy": "first",
            "passThrough": True,
            "inputField": None,
            "outputPath": None,
            "executionMode": "single",
            "inputs": [{"id": f"i{k}", "name": f, "field": f} for k, f in enumerate(inputs)],
            "outputs": [{"id": "o", "name": output, "field": output}],
            "rules": [
                {"_id": f"r{k}", **{f"i{j}": c for j, c in enumerate(cells)}, "o": out}
                for k, (cells, out) in enumerate(rows)
            ],
        },
    }


def _expressions(node_id: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": node_id,
        "name": node_id,
        "type": "expressionNode",
        "position": {"x": 0, "y": 0},
        "content": {
            "passThrough": True,
            "inputField": None,
            "outputPath": None,
            "executionMode": "single",
            "expressions": [
                {"id": f"{node_id}{k}", "key": key, "value": value}
                for k, (key, value) in enumerate(pairs)
            ],
        },
    }


def zen_graph() -> dict[str, Any]:
    """The default policy as a JDM graph: decision tables for eligibility and the income
    matrix, expression nodes for the rest (zen has no stop/collect, so flags carry it)."""
    eligibility_inputs = [
        "segment",
        "fraud_flag",
        "kyc_verified",
        "age_years",
        "dpd_now",
        "dpd_max_12m",
        "multi_lender_count",
        "bureau_score",
        "score",
    ]
    knockouts = [
        (1, "true", FRAUD),
        (2, "false", KYC),
        (3, "< 22", AGE),
        (3, "> 55", AGE),
        (4, "> 0", DPD_HISTORY),
        (5, "> 30", DPD_HISTORY),
        (6, ">= 6", MULTI_LENDER),
        (7, "< 550", BUREAU_LOW),
        (8, "< 580", SCORE_LOW),
    ]
    rows = [(["'existing'"] + [""] * 8, "-1")]
    for column, test, bit in knockouts:
        cells = [""] * 9
        cells[column] = test
        rows.append((cells, str(bit)))
    rows.append(([""] * 9, "-1"))
    matrix_rows = [(["'existing'", "", ""], "0")] + [
        (["", score_cell, income_cell], repr(MULTIPLES[r][c]))
        for r, score_cell in enumerate(_bands(SCORE_BREAKS))
        for c, income_cell in enumerate(_bands(INCOME_BREAKS))
    ]
    nodes = [
        {
            "id": "in",
            "name": "request",
            "type": "inputNode",
            "position": {"x": 0, "y": 0},
            "content": {"schema": ""},
        },
        _expressions("s", [("score", "segment == 'new' ? app_score : behaviour_score")]),
        _table("eligibility", eligibility_inputs, "knockout", rows),
        _table(
            "matrix", ["segment", "score", "verified_income_monthly_fen"], "multiple", matrix_rows
        ),
        _expressions(
            "sizing",
            [
                (
                    "target",
                    "floor(verified_income_monthly_fen * multiple * risk_appetite / 10000"
                    " + 0.5) * 10000",
                ),
                (
                    "cap",
                    "multi_lender_count <= 2 ? min([verified_income_monthly_fen * 12, 20000000])"
                    " : min([verified_income_monthly_fen * 6, 10000000])",
                ),
                ("m_close", "dpd_now >= 90"),
                ("m_freeze", "dpd_now >= 31 and dpd_now <= 89"),
                ("m_half", "dpd_now >= 4 and dpd_now <= 30"),
                ("m_recent", "dpd_now <= 3 and dpd_max_3m > 30"),
                ("m_lenders", "multi_lender_count >= 8"),
                ("m_burst", "draws_last_7d >= 15"),
                ("g_steady", "on_time_streak_months >= 6 and score >= 720"),
                (
                    "g_building",
                    "on_time_streak_months >= 3 and on_time_streak_months <= 5 and "
                    "score >= 680 and utilisation_avg_6m > 0.7",
                ),
            ],
        ),
        _expressions(
            "risk",
            [
                ("new_ok", "segment == 'new' and knockout < 0 and target >= 100000"),
                ("l1", "m_close ? 0 : current_line_fen"),
                (
                    "worst",
                    "m_close ? 6 : (m_freeze or m_burst) ? 5 : "
                    "(m_half or m_recent or m_lenders) ? 3 : -1",
                ),
                (
                    "risk_mask",
                    f"(m_close ? {1 << DPD_SEVERE} : 0) + ((m_freeze or m_half) ? "
                    f"{1 << DPD_NOW} : 0) + (m_recent ? {1 << DPD_RECENT} : 0) + "
                    f"(m_lenders ? {1 << MULTI_LENDER} : 0) + "
                    f"(m_burst ? {1 << DRAW_BURST} : 0)",
                ),
                (
                    "risk_notice",
                    "m_burst ? 'freeze' : (m_half or m_recent or m_lenders) ? "
                    "'line_cut' : m_freeze ? 'freeze' : m_close ? 'closure' : null",
                ),
            ],
        ),
        _expressions(
            "risk2",
            [
                (
                    "l2",
                    f"m_half ? {_rnd('l1 * 50 / 100')} : m_recent ? {_rnd('l1 * 70 / 100')} : l1",
                ),
                (
                    "risk_action",
                    "worst == 6 ? 'close' : worst == 5 ? 'freeze' : worst == 3 ? "
                    "'decrease' : 'keep'",
                ),
                ("stopped", "worst >= 5"),
            ],
        ),
        _expressions(
            "review",
            [
                ("risk_line", f"m_lenders ? {_rnd('l2 * 80 / 100')} : l2"),
                (
                    "device_freeze",
                    "not stopped and (device_anomaly or login_anomaly) and score < 600",
                ),
                (
                    "calm",
                    "not stopped and not (not stopped and (device_anomaly or login_anomaly) "
                    "and score < 600) and risk_action == 'keep'",
                ),
            ],
        ),
        _expressions(
            "review2",
            [
                (
                    "dormant_close",
                    "calm and months_since_last_activity >= 24 and current_line_fen > 0",
                ),
                (
                    "dormant_trim",
                    "calm and months_since_last_activity >= 12 and not "
                    "(months_since_last_activity >= 24 and current_line_fen > 0)",
                ),
                (
                    "grow",
                    "calm and months_since_last_activity < 12 and "
                    "months_since_last_line_change >= 3 and dpd_max_12m == 0 and "
                    "(g_steady or g_building)",
                ),
                (
                    "grown",
                    f"g_steady ? {_rnd('risk_line * (100 + (utilisation_avg_6m > 0.5 ? 30 * risk_appetite : 10)) / 100')}"  # noqa: E501
                    f" : {_rnd('risk_line + 200000')}",
                ),
            ],
        ),
        _expressions(
            "decide",
            [
                (
                    "ex_action",
                    "stopped ? risk_action : device_freeze ? 'freeze' : dormant_close ? "
                    "'close' : dormant_trim ? 'decrease' : grow ? 'increase' : "
                    "risk_action",
                ),
                ("capped", "min([grown, max([cap, current_line_fen])])"),
                (
                    "action",
                    "segment == 'new' ? (new_ok ? 'approve' : 'decline') : (stopped ? "
                    "risk_action : device_freeze ? 'freeze' : dormant_close ? 'close' : "
                    "dormant_trim ? 'decrease' : grow ? 'increase' : risk_action)",
                ),
            ],
        ),
        _expressions(
            "final",
            [
                (
                    "line_fen",
                    f"segment == 'new' ? (new_ok ? {_rnd('min([target, cap])')} : "
                    "current_line_fen) : (dormant_close ? 0 : dormant_trim ? "
                    f"{_rnd('max([risk_line * 0.5, 100000])')} : grow ? (capped < grown "
                    f"? {_rnd('capped')} : grown) : risk_line)",
                ),
                (
                    "car_line_fen",
                    "action in ['approve', 'increase', 'keep'] and product == "
                    "'car_owner' and vehicle_value_fen > 0 ? min([max([floor("
                    "vehicle_value_fen * 0.2 / 10000 + 0.5) * 10000, 0]), 5000000]) "
                    ": 0",
                ),
                (
                    "base_mask",
                    f"segment == 'new' ? (knockout >= 0 ? 2 ^ knockout : target < "
                    f"100000 ? {1 << INCOME_LOW} : 0) : risk_mask + (device_freeze ? "
                    f"{1 << DEVICE} : 0) + ((dormant_close or dormant_trim) ? "
                    f"{1 << INACTIVE} : 0) + ((grow and not g_steady) ? "
                    f"{1 << HIGH_UTIL} : 0) + (grow ? {1 << GOOD_HISTORY} : 0)",
                ),
                (
                    "notice",
                    "segment == 'new' ? (new_ok ? 'welcome' : 'decline') : stopped ? "
                    "risk_notice : device_freeze ? 'freeze' : dormant_close ? 'closure' : "
                    "dormant_trim ? 'line_cut' : grow ? 'line_raise' : risk_notice",
                ),
            ],
        ),
        _expressions(
            "out",
            [
                ("reason_mask", f"base_mask + (car_line_fen > 0 ? {1 << CAR_OWNER} : 0)"),
            ],
        ),
        {
            "id": "out_node",
            "name": "response",
            "type": "outputNode",
            "position": {"x": 0, "y": 0},
            "content": {"schema": ""},
        },
    ]
    ids = [n["id"] for n in nodes]
    edges = [
        {"id": f"e{k}", "sourceId": a, "targetId": b, "type": "edge"}
        for k, (a, b) in enumerate(pairwise(ids))
    ]
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}


def zen_decision(result: dict[str, Any]) -> tuple[str, int, int, str | None, int]:
    r = result["result"]
    return (
        r["action"],
        int(r["line_fen"]),
        int(r["reason_mask"]),
        r.get("notice"),
        int(r["car_line_fen"]),
    )
