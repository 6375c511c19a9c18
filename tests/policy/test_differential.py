"""One semantics, every engine: on random books, the online evaluator, the polars plan, the
compiled kernel and the DuckDB SQL agree on every output of every policy in ``policies/``.

Numbers are drawn both from the whole declared range and from the constants the policy
itself mentions (±1), so every threshold, band edge and rounding boundary gets hit.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limitwise.policy.compiled import Effect, Policy, RulesetStep, TableStep
from limitwise.policy.kernel import KernelPlan
from limitwise.policy.online import PolicyEvaluator
from limitwise.policy.polars_plan import PolarsBackend, evaluate_book
from limitwise.policy.schemas import FeatureSpec
from limitwise.policy.sql import compile_sql
from limitwise.policy.validate import load_file
from tests.policy.conftest import POLICIES

POLICY_FILES = sorted(p for p in POLICIES.glob("*.yaml") if not p.name.endswith(".cases.yaml"))
NUMBER = re.compile(r"(?<![\w.])-?\d[\d_]*(?:\.\d+)?")
MONEY_MAX = 10**9  # 10 million yuan, far above any line


def constants_of(path: Path) -> list[float]:
    found = {float(n.replace("_", "")) for n in NUMBER.findall(path.read_text())}
    return sorted(found | {v * 100 for v in found} | {v / 100 for v in found})


def feature_strategy(
    spec: FeatureSpec, constants: list[float], half_step: int
) -> st.SearchStrategy[Any]:
    if spec.type == "bool":
        return st.booleans()
    if spec.type == "enum":
        return st.sampled_from(spec.values or [""])
    low = spec.min if spec.min is not None else -1000.0
    high = spec.max if spec.max is not None else (MONEY_MAX if spec.type == "money" else 1000.0)
    if spec.type == "float":
        near = [c for c in constants if low <= c <= high] or [low]
        return st.floats(low, high, allow_nan=False) | st.sampled_from(near)
    lo, hi = math.ceil(low), math.floor(high)
    near = sorted({int(c) + d for c in constants for d in (-1, 0, 1) if lo <= int(c) + d <= hi})
    drawn = st.integers(lo, hi) | st.sampled_from(near or [lo])
    if spec.type == "money":  # multiples of half a line step: exact rounding ties
        ties = st.integers(lo // half_step, hi // half_step).map(lambda k: k * half_step)
        drawn |= ties.filter(lambda v: lo <= v <= hi)
    return drawn


def golden_accounts(path: Path) -> list[dict[str, Any]]:
    spec = yaml.safe_load(path.with_name(f"{path.stem}.cases.yaml").read_text())
    return [{**spec["bases"][case["base"]], **case.get("input", {})} for case in spec["cases"]]


def book_strategy(policy: Policy, path: Path) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Accounts drawn at random, and golden accounts with a few features redrawn (these reach
    the deep nodes: increases, caps, sub-lines)."""
    constants = constants_of(path)
    half = max(policy.line_step_fen // 2, 1)
    features = {
        n: feature_strategy(spec, constants, half) for n, spec in policy.bundle.features.items()
    }
    random_account = st.fixed_dictionaries(features)
    golden = golden_accounts(path)

    @st.composite
    def nudged(draw: st.DrawFn) -> dict[str, Any]:
        names = draw(st.lists(st.sampled_from(sorted(features)), max_size=3, unique=True))
        return {**draw(st.sampled_from(golden)), **{n: draw(features[n]) for n in names}}

    return st.lists(random_account | nudged() | nudged() | nudged(), min_size=1, max_size=25)


def online_rows(policy: Policy, book: list[dict[str, Any]]) -> list[dict[str, Any]]:
    evaluator = PolicyEvaluator(policy)
    rows = []
    for features in book:
        d = evaluator.evaluate(features)
        reasons = d.reasons + [None] * (4 - len(d.reasons))
        rows.append(
            {
                "action": d.action,
                "line_fen": d.line_fen,
                "previous_line_fen": d.previous_line_fen,
                "reason_mask": d.reason_mask,
                **{f"reason_{i + 1}": r for i, r in enumerate(reasons)},
                "notice": d.notice,
                **{f"sub_line_{k}_fen": v for k, v in d.sub_lines.items()},
            }
        )
    return rows


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.stem)
def test_online_polars_and_sql_agree(path: Path) -> None:
    """Polars is checked on every generated book; DuckDB (slow to plan a long query) once
    on all the generated books together."""
    policy = load_file(path)
    kernel = KernelPlan(policy)
    schema = {n: _dtype(s) for n, s in policy.bundle.features.items()}
    seen: list[dict[str, Any]] = []

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        derandomize=True,
    )
    @given(book_strategy(policy, path))
    def check(accounts: list[dict[str, Any]]) -> None:
        seen.extend(accounts)
        book = pl.DataFrame(accounts, schema=schema)
        expected = online_rows(policy, accounts)
        assert evaluate_book(policy, book, streaming=False).to_dicts() == expected
        assert kernel.evaluate(book).to_dicts() == expected

    check()
    con = duckdb.connect()
    con.register("book", pl.DataFrame(seen, schema=schema))
    by_sql = con.sql(compile_sql(policy, table="book")).pl().to_dicts()
    assert by_sql == online_rows(policy, seen)
    possible = {policy.default_action} | {e.action for e in effects_of(policy) if e.action}
    reached = {row["action"] for row in by_sql}
    assert len(reached) >= min(4, len(possible)), f"the books reach only {reached}"


def effects_of(policy: Policy) -> list[Effect]:
    return [
        item.effect
        for step in policy.steps
        if isinstance(step, (RulesetStep, TableStep))
        for item in (step.branches if isinstance(step, RulesetStep) else step.rows)
    ]


def _dtype(spec: FeatureSpec) -> Any:
    return {
        "int": pl.Int64,
        "money": pl.Int64,
        "float": pl.Float64,
        "bool": pl.Boolean,
        "enum": pl.String,
    }[spec.type]


def test_a_planted_off_by_one_fails_the_differential_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/policy.md promises that a planted bug fails these tests: plant one in the polars
    engine (``>=`` read as ``>``, a threshold off by one) and the comparison must catch it."""
    honest = PolarsBackend.binary

    def off_by_one(self: PolarsBackend, op: str, left: pl.Expr, right: pl.Expr) -> pl.Expr:
        return honest(self, ">" if op == ">=" else op, left, right)

    monkeypatch.setattr(PolarsBackend, "binary", off_by_one)
    with pytest.raises(AssertionError):
        test_online_polars_and_sql_agree(POLICIES / "default.yaml")
