"""One semantics beyond the shipped policies: Hypothesis writes random, well-typed policy
bundles (every node kind, both hit policies that tolerate overlap, guards, stops, every line
change, nested expressions with every operator and function) and random books for them, and
the online evaluator, the polars plan, the DuckDB SQL and the compiled kernel must agree on
every output.

Integers stay far below 2**63 (multiplication only by small constants), as docs/policy.md
requires of every policy.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl
import yaml
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from limitwise.policy.compiled import Policy
from limitwise.policy.kernel import KernelPlan
from limitwise.policy.polars_plan import evaluate_book
from limitwise.policy.sql import compile_sql
from limitwise.policy.validate import PolicyInvalid, load_text
from tests.policy.test_differential import _dtype, online_rows

FEATURES: dict[str, dict[str, Any]] = {
    "line_now_fen": {"type": "money", "min": 0, "max": 5_000_000},
    "m_fen": {"type": "money", "min": 0, "max": 1_000_000},
    "a": {"type": "int", "min": -50, "max": 50},
    "b": {"type": "int", "min": 0, "max": 100},
    "x": {"type": "float", "min": 0, "max": 2},
    "flag": {"type": "bool"},
    "seg": {"type": "enum", "values": ["p", "q", "r"]},
}
VARIABLES: dict[str, dict[str, Any]] = {
    "v_fen": {"type": "money", "default": 0},
    "k": {"type": "int", "default": 0},
    "w": {"type": "float", "default": 0.0},
}
INT_NAMES = ["line_now_fen", "m_fen", "a", "b", "v_fen", "k", "line_fen"]
FLOAT_NAMES = ["x", "w"]
REASONS = [f"R{i}" for i in range(6)]
ACTIONS = ["approve", "increase", "keep", "decrease", "decline", "freeze", "close"]
NOTICES = ["raise", "cut", "freeze"]

small_int = st.integers(-20, 20).map(str)
small_float = st.sampled_from(["0.5", "1.5", "0.25", "2.0", "0.1", "-0.75"])


def numbers(depth: int = 3) -> st.SearchStrategy[str]:
    leaf = st.sampled_from(INT_NAMES + FLOAT_NAMES) | small_int | small_float
    if depth == 0:
        return leaf
    inner = numbers(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(inner, st.sampled_from("+-"), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, st.sampled_from(["2", "3", "-1", "0.5"])).map(
            lambda t: f"({t[0]} * {t[1]})"
        ),
        st.tuples(inner, st.sampled_from(["2", "4", "3", "0.5"])).map(
            lambda t: f"({t[0]} / {t[1]})"
        ),
        st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.tuples(inner, small_int, st.integers(21, 60).map(str)).map(
            lambda t: f"clamp({t[0]}, {t[1]}, {t[2]})"
        ),
        st.tuples(inner, st.sampled_from(["1", "10", "100", "10000"])).map(
            lambda t: f"round({t[0]}, {t[1]})"
        ),
        inner.map(lambda e: f"abs({e})"),
        st.tuples(conditions(depth - 1), inner, inner).map(
            lambda t: f"({t[1]} if {t[0]} else {t[2]})"
        ),
    )


def conditions(depth: int = 2) -> st.SearchStrategy[str]:
    simple = numbers(min(depth, 1))
    leaf = st.one_of(
        st.tuples(simple, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), simple).map(
            lambda t: f"{t[0]} {t[1]} {t[2]}"
        ),
        st.sampled_from(["flag", "not flag", "seg == 'p'", "seg != 'q'", "seg in ['p', 'r']"]),
        st.sampled_from(["action == 'keep'", "action in ['decrease', 'freeze']"]),
        st.tuples(simple, small_int, st.integers(21, 60).map(str)).map(
            lambda t: f"between({t[0]}, {t[1]}, {t[2]})"
        ),
    )
    if depth == 0:
        return leaf
    inner = conditions(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        inner.map(lambda c: f"not ({c})"),
    )


@st.composite
def assignment(draw: st.DrawFn) -> tuple[str, str]:
    var = draw(st.sampled_from(sorted(VARIABLES)))
    value = draw(numbers())
    return var, value if var == "w" else f"round({value}, 100)"


@st.composite
def effect(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        out["action"] = draw(st.sampled_from(ACTIONS))
    if draw(st.booleans()):
        out["reasons"] = draw(
            st.lists(st.sampled_from(REASONS), min_size=1, max_size=2, unique=True)
        )
    if draw(st.booleans()):
        out["notice"] = draw(st.sampled_from(NOTICES))
    kind = draw(st.sampled_from(["none", "to", "by_fen", "by_pct"]))
    if kind != "none":
        out["line"] = {kind: draw(numbers(2))}
    if draw(st.integers(0, 3)) == 0:
        var, value = draw(assignment())
        out["set"] = {var: value}
    if draw(st.integers(0, 4)) == 0:
        out["stop"] = True
    return out


numeric_cell = st.one_of(
    st.just("-"),
    st.tuples(st.sampled_from([">", ">=", "<", "<="]), st.integers(-10, 60)).map(
        lambda t: f"{t[0]} {t[1]}"
    ),
    st.tuples(st.integers(-10, 30), st.integers(0, 40)).map(lambda t: f"[{t[0]}..{t[0] + t[1]}]"),
)
TABLE_INPUTS = {
    "a": numeric_cell,
    "b": numeric_cell,
    "x": st.sampled_from(["-", "> 0.5", "<= 1.0", "[0.25..1.5)", "(0.5..2]"]),
    "seg": st.sampled_from(["-", "p", "q, r", "p, r"]),
    "flag": st.sampled_from(["-", True, False]),
}


@st.composite
def node(draw: st.DrawFn, index: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["expression", "ruleset", "table", "matrix"]))
    out: dict[str, Any] = {"id": f"n{index}", "kind": kind}
    if draw(st.booleans()):
        out["when"] = draw(conditions(1))
    if kind == "expression":
        out["assign"] = dict(draw(st.lists(assignment(), min_size=1, max_size=2)))
    elif kind == "ruleset":
        out["hit"] = draw(st.sampled_from(["first", "collect"]))
        count = draw(st.integers(1, 4))
        out["rules"] = [
            {"id": f"r{i}", "when": draw(conditions()), "then": draw(effect())}
            for i in range(count)
        ]
    elif kind == "table":
        out["hit"] = draw(st.sampled_from(["first", "collect"]))
        inputs = draw(
            st.lists(st.sampled_from(sorted(TABLE_INPUTS)), min_size=1, max_size=3, unique=True)
        )
        out["inputs"] = inputs
        count = draw(st.integers(1, 4))
        out["rows"] = [
            {"id": f"t{i}", "when": [draw(TABLE_INPUTS[n]) for n in inputs], "then": draw(effect())}
            for i in range(count)
        ]
    else:
        rows = sorted(set(draw(st.lists(st.integers(-40, 90), min_size=1, max_size=3))))
        columns = sorted(
            set(draw(st.lists(st.sampled_from([0.25, 0.5, 1.0, 1.5]), min_size=1, max_size=2)))
        )
        out["rows"] = {"input": draw(st.sampled_from(["a", "b", "k"])), "breaks": rows}
        out["columns"] = {"input": draw(st.sampled_from(["x", "w"])), "breaks": columns}
        value = st.sampled_from([0.0, 0.5, 1.25, -2.0, 3.0])
        out["values"] = [
            [draw(value) for _ in range(len(columns) + 1)] for _ in range(len(rows) + 1)
        ]
        out["assign"] = "w"
    return out


@st.composite
def bundles(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 5))
    return {
        "key": "random",
        "version": "1",
        "default_action": draw(st.sampled_from(["keep", "approve"])),
        "line": {
            "current": "line_now_fen",
            "step_fen": draw(st.sampled_from([1, 100, 10000])),
            "min_fen": draw(st.sampled_from([0, 100000])),
            "max_fen": draw(st.sampled_from([3_000_000, 10_000_000])),
        },
        "features": FEATURES,
        "variables": VARIABLES,
        "reasons": {code: {"en": code, "zh": code} for code in REASONS},
        "nodes": [draw(node(i)) for i in range(count)],
        "outputs": {"sub_lines": {"extra": "v_fen"}},
    }


def feature_values() -> dict[str, st.SearchStrategy[Any]]:
    ties = st.integers(0, 1000).map(lambda k: k * 50)  # half of every line step: rounding ties
    return {
        "line_now_fen": st.integers(0, 5_000_000) | ties,
        "m_fen": st.integers(0, 1_000_000) | ties,
        "a": st.integers(-50, 50),
        "b": st.integers(0, 100),
        "x": st.floats(0, 2, allow_nan=False) | st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.5, 2.0]),
        "flag": st.booleans(),
        "seg": st.sampled_from(["p", "q", "r"]),
    }


SETTINGS = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)
books = st.lists(st.fixed_dictionaries(feature_values()), min_size=1, max_size=12)


def random_policy(bundle: dict[str, Any]) -> Policy:
    try:
        return load_text(yaml.safe_dump(bundle, allow_unicode=True), source="random.yaml")
    except PolicyInvalid:
        reject()  # e.g. a rule made unreachable by an earlier always-true one
        raise


def book_of(policy: Policy, accounts: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(accounts, schema={n: _dtype(s) for n, s in policy.bundle.features.items()})


@settings(max_examples=120, **SETTINGS)
@given(bundle=bundles(), accounts=books)
def test_random_policies_agree_on_every_engine(
    bundle: dict[str, Any], accounts: list[dict[str, Any]]
) -> None:
    policy = random_policy(bundle)
    expected, book = online_rows(policy, accounts), book_of(policy, accounts)
    assert evaluate_book(policy, book, streaming=False).to_dicts() == expected
    con = duckdb.connect()
    con.register("book", book)
    assert con.sql(compile_sql(policy, table="book")).pl().to_dicts() == expected


@settings(max_examples=15, **SETTINGS)
@given(bundle=bundles(), accounts=books)
def test_random_policies_agree_with_the_compiled_kernel(
    bundle: dict[str, Any], accounts: list[dict[str, Any]]
) -> None:
    """Fewer examples: numba compiles each policy's kernel in about a second."""
    policy = random_policy(bundle)
    expected, book = online_rows(policy, accounts), book_of(policy, accounts)
    assert KernelPlan(policy).evaluate(book).to_dicts() == expected
