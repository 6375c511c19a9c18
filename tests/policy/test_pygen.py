"""The online evaluator's generated function: policy text stays data, the function reaches
nothing but its own helpers, and its two variants (checked, trusted) agree."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from limitwise.cli import app
from limitwise.policy.compiled import Policy
from limitwise.policy.online import PolicyEvaluator
from limitwise.policy.pygen import NAMESPACE, DecisionFunction
from limitwise.policy.validate import load_file, load_text
from tests.policy.conftest import POLICIES

#: Enum values, ids and texts that would run code if they were ever pasted into source.
HOSTILE = "x'); __import__('os').system('touch {marker}'); ('"
PLAIN = 'plain\n"quoted"'


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Policy, str, Path]:
    marker = tmp_path / "PWNED"
    text = HOSTILE.format(marker=marker)
    bundle = {
        "key": "hostile",
        "version": "1",
        "line": {"current": "line-now_fen", "step_fen": 100, "max_fen": 1000000},
        "features": {
            "line-now_fen": {"type": "money"},
            "kind": {"type": "enum", "values": [text, PLAIN]},
        },
        "reasons": {"R1": {"en": text, "zh": text}},
        "nodes": [
            {
                "id": text,
                "kind": "ruleset",
                "hit": "first",
                "rules": [
                    {
                        "id": text,
                        "when": f"kind == {text!r}",
                        "then": {
                            "action": "decrease",
                            "reasons": ["R1"],
                            "notice": text,
                            "line": {"by_pct": -50},
                        },
                    }
                ],
            }
        ],
    }
    return load_text(yaml.safe_dump(bundle), source="hostile.yaml"), text, marker


def test_policy_text_is_only_ever_data(hostile: tuple[Policy, str, Path]) -> None:
    policy, text, marker = hostile
    evaluator = PolicyEvaluator(policy)
    decision = evaluator.evaluate({"line-now_fen": 10000, "kind": text})
    assert (decision.action, decision.line_fen, decision.notice) == ("decrease", 5000, text)
    assert decision.trace[0].matched == (text,)
    other = evaluator.evaluate({"line-now_fen": 10000, "kind": PLAIN})
    assert (other.action, other.line_fen) == ("keep", 10000)
    assert not marker.exists()
    tree = DecisionFunction(policy).module(checked=True)  # the very tree that is compiled
    constants = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert text in constants and frozenset({text, PLAIN}) in constants
    assert not any(isinstance(c, str) and "__import__" in c and c != text for c in constants)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert all(n.startswith("v_") or n in INTERNAL for n in names), names - INTERNAL
    calls = [n.func for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert all(isinstance(f, ast.Name) and f.id in {*NAMESPACE, "record"} for f in calls)
    assert not any(isinstance(n, ast.Attribute) and n.attr != "append" for n in ast.walk(tree))


INTERNAL = {*NAMESPACE, "features", "mask", "notice", "trace", "record", "cell"}


def test_the_function_sees_no_builtins(default_policy: Policy) -> None:
    decide = DecisionFunction(default_policy).build(checked=True)
    assert decide.__globals__["__builtins__"] == {}
    assert set(decide.__globals__) == {*NAMESPACE, "decide"}


def test_checked_variant_answers_none_for_anything_not_plainly_valid(
    default_policy: Policy,
) -> None:
    cases = default_policy_cases()
    function = DecisionFunction(default_policy)
    checked, trusted = function.build(checked=True), function.build(checked=False)
    base = cases["bases"]["existing"]
    assert checked(base) == trusted(base)
    for bad in (
        {**base, "risk_appetite": 1},  # an int for a float feature: the caller converts it
        {**base, "dpd_now": True},
        {**base, "segment": "vip"},
        {k: v for k, v in base.items() if k != "dpd_now"},
    ):
        assert checked(bad) is None


def default_policy_cases() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((POLICIES / "default.cases.yaml").read_text())
    return loaded


def test_policy_python_prints_the_compiled_function() -> None:
    result = CliRunner().invoke(app, ["policy", "python", str(POLICIES / "default.yaml")])
    assert result.exit_code == 0, result.output
    tree = ast.parse(result.output)
    (function,) = tree.body
    assert isinstance(function, ast.FunctionDef) and function.name == "decide"
    assert "'severe_overdue'" not in result.output  # collect rows log flags, not ids
    assert "('steady_high_use',)" in result.output
    trusted = CliRunner().invoke(
        app, ["policy", "python", "--trusted", str(POLICIES / "default.yaml")]
    )
    assert "KeyError" in result.output and "KeyError" not in trusted.output
    kernel = CliRunner().invoke(
        app, ["policy", "python", "--kernel", str(POLICIES / "default.yaml")]
    )
    (loop,) = ast.parse(kernel.output).body[0].body  # type: ignore[attr-defined]
    assert isinstance(loop, ast.For) and "in range(n)" in kernel.output
    assert "'" not in kernel.output  # no text in machine code: every string is a code


@pytest.mark.parametrize("path", sorted(POLICIES.glob("*[!s].yaml")), ids=lambda p: p.stem)
def test_trusted_and_checked_variants_decide_alike(path: Path) -> None:
    """The trusted variant loads only the features the steps read (and the current line)."""
    policy = load_file(path)
    cases = yaml.safe_load(path.with_name(f"{path.stem}.cases.yaml").read_text())
    evaluator = PolicyEvaluator(policy)
    for case in cases["cases"]:
        features = {**cases["bases"][case["base"]], **case.get("input", {})}
        checked, trusted = evaluator.evaluate(features), evaluator.evaluate(features, checked=False)
        assert checked.to_dict() == trusted.to_dict()
