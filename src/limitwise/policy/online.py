"""The online evaluator: one account at a time in microseconds, returning the decision and
its trace.

The policy is compiled once into a Python function (:mod:`.pygen`); evaluating an account
checks its features against the schema and calls it. The function records, for every node
it reaches, the values of the variables the node reads and what matched; ``Decision.trace``
turns that log into rows lazily, adding the features (which never change) from the inputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from limitwise.kit.errors import InvalidRequest, Problem
from limitwise.policy.compiled import Policy, RulesetStep, ScorecardStep, TableStep
from limitwise.policy.expr import Scalar
from limitwise.policy.pygen import MAX_INT, DecisionFunction

Env = dict[str, Any]
# (step index, variable values before the step, what matched: None when skipped)
TraceRow = tuple[int, tuple[Any, ...], Any]


@dataclass(frozen=True, slots=True)
class TraceStep:
    node: str
    kind: str
    ran: bool
    matched: tuple[str, ...]
    values: dict[str, Any]


@dataclass(slots=True)
class Decision:
    policy_key: str
    policy_version: str
    policy_hash: str
    action: str
    line_fen: int
    previous_line_fen: int
    reason_mask: int
    reasons: list[str]
    notice: str | None
    sub_lines: dict[str, int]
    _trace_log: list[Any] = field(repr=False)
    _inputs: Mapping[str, Any] = field(repr=False)
    _evaluator: PolicyEvaluator = field(repr=False)

    @property
    def policy(self) -> Policy:
        """The compiled policy that decided (its reason texts, steps, features)."""
        return self._evaluator.policy

    @property
    def line_change_fen(self) -> int:
        return self.line_fen - self.previous_line_fen

    @property
    def inputs(self) -> dict[str, Any]:
        """The features the decision saw (for the audit record)."""
        return {name: self._inputs[name] for name in self._evaluator.policy.features}

    @property
    def _trace_rows(self) -> list[TraceRow]:
        log = self._trace_log
        return [(i // 2, log[i], log[i + 1]) for i in range(0, len(log), 2)]

    @property
    def scorecards(self) -> list[str]:
        """``key@version`` of every scorecard whose score this decision used."""
        steps = self._evaluator.policy.steps
        return [
            f"{step.scorecard_key}@{step.scorecard_version}"
            for index, _, matched in self._trace_rows
            if matched is not None and isinstance(step := steps[index], ScorecardStep)
        ]

    @property
    def trace(self) -> list[TraceStep]:
        render = self._evaluator.render_trace_row
        return [render(row, self._inputs) for row in self._trace_rows]

    def reason_texts(self, lang: str = "en") -> list[tuple[str, str]]:
        texts = self._evaluator.policy.reason_texts
        return [(code, getattr(texts[code], lang)) for code in self.reasons]

    def to_dict(self, *, with_trace: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "policy": {
                "key": self.policy_key,
                "version": self.policy_version,
                "hash": self.policy_hash,
            },
            "action": self.action,
            "line_fen": self.line_fen,
            "previous_line_fen": self.previous_line_fen,
            "line_change_fen": self.line_change_fen,
            "reasons": [
                {"code": code, "en": en, "zh": zh}
                for (code, en), (_, zh) in zip(
                    self.reason_texts("en"), self.reason_texts("zh"), strict=True
                )
            ],
            "notice": self.notice,
            "sub_lines": self.sub_lines,
            "scorecards": self.scorecards,
            "inputs": self.inputs,
        }
        if with_trace:
            body["trace"] = [
                {
                    "node": t.node,
                    "kind": t.kind,
                    "ran": t.ran,
                    "matched": list(t.matched),
                    "values": t.values,
                }
                for t in self.trace
            ]
        return body


class PolicyEvaluator:
    """A policy compiled to a Python function; ``evaluate`` decides one account."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.current_line = policy.current_line
        self.required = frozenset(policy.features)
        self.checks = [
            (
                name,
                CHECK_TYPES[spec.type],
                frozenset(spec.values) if spec.values else None,
                spec.min,
                spec.max,
            )
            for name, spec in policy.bundle.features.items()
        ]
        function = DecisionFunction(policy)
        self._decide = function.build(checked=False)
        self._decide_checked = function.build(checked=True)
        self._snapshot_names = function.snapshot_names
        self._collect_ids = [_collect_ids(step) for step in policy.steps]
        self._reasons_cache: dict[int, list[str]] = {}

    def evaluate(self, features: Mapping[str, Any], *, checked: bool = True) -> Decision:
        """Decide one account; ``checked`` validates the inputs against the feature schema.

        Only declared features are read: an extra key named like a variable changes nothing.
        """
        result = self._decide_checked(features) if checked else self._decide(features)
        if result is None:  # not plainly valid: convert integers for floats, or refuse
            features = self.check_input(features)
            result = self._decide(features)
        assert result is not None  # the trusted variant always decides
        action, line_fen, mask, notice, sub_lines, trace = result
        inputs = dict(features)
        reasons = self._reasons_cache.get(mask)
        if reasons is None:
            reasons = self.policy.reasons_of(mask)
            if len(self._reasons_cache) < REASON_CACHE_SIZE:
                self._reasons_cache[mask] = reasons
        p = self.policy
        return Decision(
            p.key,
            p.version,
            p.content_hash,
            action,
            line_fen,
            inputs[self.current_line],
            mask,
            list(reasons),
            notice,
            sub_lines,
            trace,
            inputs,
            self,
        )

    def check_input(self, features: Mapping[str, Any]) -> Mapping[str, Any]:
        """Every feature present, of its declared type, inside its declared range: the
        features (integers given for float features made floats), or ``InvalidRequest``
        naming every bad field. ``evaluate`` proves the common case inside the compiled
        function and comes here only for an input that is not plainly valid."""
        converted: Env | None = None
        try:
            for name, kind, allowed, low, high in self.checks:
                value = features[name]
                cls = type(value)
                if kind == "number":
                    if cls is int:
                        if converted is None:
                            converted = dict(features)
                        converted[name] = value = float(value)
                    elif cls is not float or not -math.inf < value < math.inf:
                        break
                elif cls is not kind or (allowed is not None and value not in allowed):
                    break
                if kind is int and not -MAX_INT < value < MAX_INT:
                    break
                if (low is not None and value < low) or (high is not None and value > high):
                    break
            else:
                return features if converted is None else converted
        except KeyError:
            pass
        return self._refuse(features)

    def _refuse(self, features: Mapping[str, Any]) -> Env:
        """Name every bad feature; raises unless the input is in fact fine."""
        problems: list[Problem] = []
        missing = self.required - features.keys()
        problems += [Problem(name, "required", "feature is missing") for name in sorted(missing)]
        clean: Env = {}
        for name, spec in self.policy.bundle.features.items():
            if name in missing:
                continue
            value = features[name]
            ok, clean[name] = _coerce(spec.type, value)
            if not ok:
                problems.append(Problem(name, "type", f"{value!r} is not a valid {spec.type}"))
            elif spec.type == "enum" and value not in (spec.values or ()):
                problems.append(
                    Problem(name, "enum", f"{value!r} is not one of {', '.join(spec.values or ())}")
                )
            elif spec.min is not None and value < spec.min:
                problems.append(Problem(name, "min", f"{value} is below {spec.min}"))
            elif spec.max is not None and value > spec.max:
                problems.append(Problem(name, "max", f"{value} is above {spec.max}"))
        if problems:
            raise InvalidRequest(problems=problems)
        return clean

    def render_trace_row(self, row: TraceRow, inputs: Mapping[str, Any]) -> TraceStep:
        """One trace row: the variables from the step's snapshot, the features from the
        inputs, the matched ids (``collect`` nodes log one flag per row)."""
        index, snapshot, matched = row
        step = self.policy.steps[index]
        kind = type(step).__name__.removesuffix("Step").lower()
        seen = dict(zip(self._snapshot_names[index], snapshot, strict=True))
        values = {name: seen[name] if name in seen else inputs[name] for name in step.reads}
        ids = self._collect_ids[index]
        if matched is not None and ids is not None:
            matched = tuple(row_id for row_id, hit in zip(ids, matched, strict=True) if hit)
        return TraceStep(step.id, kind, matched is not None, matched or (), values)


def _collect_ids(step: object) -> tuple[str, ...] | None:
    """The rule or row ids of a ``collect`` node, in order (None for other nodes)."""
    if isinstance(step, RulesetStep) and step.hit == "collect":
        return tuple(b.id for b in step.branches)
    if isinstance(step, TableStep) and step.hit == "collect":
        return tuple(r.id for r in step.rows)
    return None


REASON_CACHE_SIZE = 4096
#: Exact Python type each feature kind must arrive as ("number": int or float, made float).
CHECK_TYPES: dict[str, Any] = {
    "int": int,
    "money": int,
    "float": "number",
    "bool": bool,
    "enum": str,
}


def _coerce(kind: str, value: Any) -> tuple[bool, Scalar]:
    if kind == "bool":
        return isinstance(value, bool), value
    if kind == "enum":
        return isinstance(value, str), value
    if isinstance(value, bool):
        return False, value
    if kind in ("int", "money"):
        return isinstance(value, int) and abs(value) < 2**53, value
    ok = isinstance(value, (int, float)) and math.isfinite(value)
    return ok, float(value) if ok else value
