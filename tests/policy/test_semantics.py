"""The numeric and hit-policy rules of docs/policy.md, checked on all three evaluators with
hand-computed answers (ties, negative rounding, mixed int/float, collect severity, stop)."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl
import pytest

from limitwise.policy.online import PolicyEvaluator
from limitwise.policy.polars_plan import evaluate_book
from limitwise.policy.sql import compile_sql
from limitwise.policy.validate import load_text

POLICY = """
key: semantics
version: "1"
line: {current: line_now_fen, step_fen: 10000, max_fen: 100000000}
features:
  line_now_fen: {type: money}
  x_fen: {type: money}
  p: {type: float}
  n: {type: int}
  seg: {type: enum, values: [a, b, c]}
  flag: {type: bool}
variables:
  r_fen: {type: money, default: 0}
  m_fen: {type: money, default: 0}
  k_fen: {type: money, default: 0}
reasons:
  R1: {en: one, zh: 一}
  R2: {en: two, zh: 二}
  R3: {en: three, zh: 三}
nodes:
  - id: arithmetic
    kind: expression
    assign:
      r_fen: round(x_fen, 10000)
      m_fen: "round(max(n, x_fen * p) / 3) if seg in ['a', 'b'] else -7"
      k_fen: "clamp(n, -5, 5) + (1 if between(p, 0.5, 1.5) and not flag else 0)"
  - id: signals
    kind: ruleset
    hit: collect
    when: seg != 'c'
    rules:
      - id: cut
        when: n > 10
        then: {action: decrease, reasons: [R3], line: {by_pct: -50}, notice: cut}
      - {id: freeze, when: n > 20, then: {action: freeze, reasons: [R1], notice: freeze,
         stop: true}}
      - {id: nudge, when: flag, then: {reasons: [R2], line: {by_fen: 5000}}}
  - id: grow
    kind: table
    hit: first
    inputs: [n, p]
    rows:
      - {id: big, when: ["[0..5]", ">= 1.0"], then: {action: increase, line: {by_pct: 15}}}
      - {id: small, when: ["< 0", "-"], then: {action: increase, line: {to: "x_fen * 1.5"}}}
outputs:
  sub_lines: {r: r_fen, m: m_fen, k: k_fen}
"""

BASE = {"line_now_fen": 30000, "x_fen": 15000, "p": 1.0, "n": 3, "seg": "a", "flag": False}
# (changes, action, line_fen, reasons, notice, r, m, k)
CASES: list[tuple[dict[str, Any], str, int, list[str], str | None, int, int, int]] = [
    # round ties go up: 15000 -> 20000; max(3, 15000.0)/3 = 5000; clamp 3 + 1
    ({}, "increase", 30000, [], None, 20000, 5000, 4),
    # by_pct 15: 30000 -> 34500 rounds to 30000; 50000 -> 57500 rounds up to 60000
    ({"line_now_fen": 30000, "p": 1.2}, "increase", 30000, [], None, 20000, 6000, 4),
    ({"line_now_fen": 50000, "p": 1.0}, "increase", 60000, [], None, 20000, 5000, 4),
    # negative tie: round(-15000, 10000) = floor(-1.5 + 0.5) * 10000 = -10000
    ({"x_fen": -15000, "n": -1}, "increase", 0, [], None, -10000, 0, 0),
    # collect: cut (-50%) then nudge (+5000); decrease is the only action; R2 and R3
    (
        {"n": 12, "flag": True, "line_now_fen": 45000},
        "decrease",
        30000,
        ["R2", "R3"],
        "cut",
        20000,
        5000,
        5,
    ),
    # collect: freeze outranks decrease and stops before the table; notice of the last match
    ({"n": 25, "line_now_fen": 45000}, "freeze", 20000, ["R1", "R3"], "freeze", 20000, 5000, 6),
    # seg c skips the collect; m is -7; p outside 0.5..1.5 so no +1
    ({"seg": "c", "p": 2.0, "n": 99}, "keep", 30000, [], None, 20000, -7, 5),
]


@pytest.mark.parametrize("case", CASES, ids=[str(c[0]) for c in CASES])
def test_online(case: Any) -> None:
    changes, action, line, reasons, notice, r, m, k = case
    d = PolicyEvaluator(load_text(POLICY)).evaluate({**BASE, **changes})
    assert (d.action, d.line_fen, d.reasons, d.notice) == (action, line, reasons, notice)
    assert d.sub_lines == {"r": r, "m": m, "k": k}


def test_polars_and_duckdb_agree_with_the_cases() -> None:
    policy = load_text(POLICY)
    book = pl.DataFrame([{**BASE, **c[0]} for c in CASES])
    expected = [(c[1], c[2], c[4], c[5], c[6], c[7]) for c in CASES]
    columns = ["action", "line_fen", "notice", "sub_line_r_fen", "sub_line_m_fen", "sub_line_k_fen"]
    con = duckdb.connect()
    con.register("book", book)
    for frame in (evaluate_book(policy, book), con.sql(compile_sql(policy)).pl()):
        assert list(frame.select(columns).iter_rows()) == expected
        reasons = frame.select(pl.concat_list("reason_1", "reason_2").list.drop_nulls())
        assert reasons.to_series().to_list() == [c[3][:2] for c in CASES]
