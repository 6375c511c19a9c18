"""The online evaluator: a policy compiled once into Python closures, then one account at a
time in microseconds, returning the decision and its trace.

The trace records, for every node, whether it ran, which rules or rows matched and the
values of the names it read *before* it ran. Recording is cheap: one tuple per node plus an
undo log of overwritten variables (features never change); ``Decision.trace`` replays the
log backwards to show each node the values it saw.
"""

from __future__ import annotations

import math
import operator
import sys
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from limitwise.kit.errors import InvalidRequest, Problem
from limitwise.policy.cells import AnyCell, Cell, Interval, Members
from limitwise.policy.compiled import (
    Effect,
    ExpressionStep,
    LineChange,
    MatrixStep,
    Policy,
    RulesetStep,
    ScorecardStep,
    Step,
    TableStep,
)
from limitwise.policy.expr import (
    Bin,
    BoolOp,
    Call,
    Cmp,
    Const,
    Expr,
    IfElse,
    In,
    Neg,
    Not,
    Scalar,
    Var,
)
from limitwise.policy.schemas import SEVERITY

Env = dict[str, Any]
Fn = Callable[[Env], Any]
# Mutable per-call state: [action, reason_mask, notice, stopped, undo log].
State = list[Any]
# (step index, matched rule/row ids or None when skipped, undo-log length before the step)
TraceRow = tuple[int, tuple[str, ...] | None, int]
# The trace as recorded: matched ids (or None) and undo-log length, in turn, for every step
# that was reached (the step index is the position halved; nothing is allocated per step).
TraceLog = list[Any]
Undo = list[tuple[str, Any]]
Runner = Callable[[Env, State], "tuple[str, ...] | None"]

CMP: dict[str, Callable[[Fn, Fn], Fn]] = {
    "==": lambda a, b: lambda env: a(env) == b(env),
    "!=": lambda a, b: lambda env: a(env) != b(env),
    "<": lambda a, b: lambda env: a(env) < b(env),
    "<=": lambda a, b: lambda env: a(env) <= b(env),
    ">": lambda a, b: lambda env: a(env) > b(env),
    ">=": lambda a, b: lambda env: a(env) >= b(env),
}
OPERATOR: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
CMP_VAR_CONST: dict[str, Callable[[str, Any], Fn]] = {
    "==": lambda n, c: lambda env: env[n] == c,
    "!=": lambda n, c: lambda env: env[n] != c,
    "<": lambda n, c: lambda env: env[n] < c,
    "<=": lambda n, c: lambda env: env[n] <= c,
    ">": lambda n, c: lambda env: env[n] > c,
    ">=": lambda n, c: lambda env: env[n] >= c,
}
ARITH: dict[str, Callable[[Fn, Fn], Fn]] = {
    "+": lambda a, b: lambda env: a(env) + b(env),
    "-": lambda a, b: lambda env: a(env) - b(env),
    "*": lambda a, b: lambda env: a(env) * b(env),
    "/": lambda a, b: lambda env: a(env) / b(env),
}


def compile_expr(expr: Expr) -> Fn:
    """An expression as a closure over the variable dict."""
    fn = _compile(expr)
    if expr.type == "float" and isinstance(expr, (Call, IfElse)):
        inner = fn
        return lambda env: float(inner(env))
    return fn


def _compile(e: Expr) -> Fn:
    if isinstance(e, Const):
        value = e.value
        return lambda env: value
    if isinstance(e, Var):
        return itemgetter(e.name)
    if isinstance(e, Neg):
        arg = compile_expr(e.arg)
        return lambda env: -arg(env)
    if isinstance(e, Not):
        if isinstance(e.arg, Var):
            name = e.arg.name
            return lambda env: not env[name]
        arg = compile_expr(e.arg)
        return lambda env: not arg(env)
    if isinstance(e, Bin):
        return ARITH[e.op](compile_expr(e.left), compile_expr(e.right))
    if isinstance(e, Cmp):
        if isinstance(e.left, Var) and isinstance(e.right, Const):
            return CMP_VAR_CONST[e.op](e.left.name, e.right.value)
        return CMP[e.op](compile_expr(e.left), compile_expr(e.right))
    if isinstance(e, BoolOp):
        return _bool_chain(e.op, e.args)
    if isinstance(e, In):
        arg, members, negate = compile_expr(e.arg), frozenset(e.values), e.negate
        if negate:
            return lambda env: arg(env) not in members
        return lambda env: arg(env) in members
    if isinstance(e, IfElse):
        cond, then, otherwise = (compile_expr(x) for x in (e.cond, e.then, e.otherwise))
        return lambda env: then(env) if cond(env) else otherwise(env)
    return _call(e)


def _bool_chain(op: str, args: tuple[Expr, ...]) -> Fn:
    """``and``/``or`` in one closure: ``feature <op> constant`` operands are tested inline
    with C-level operator functions instead of one closure call each (order does not matter:
    expressions have no side effects and cannot fail)."""
    tests = [(a, _inline_test(a)) for a in args]
    inline = [test for _, test in tests if test is not None]
    other = [compile_expr(a) for a, test in tests if test is None]
    if op == "and":

        def all_of(env: Env) -> bool:
            for compare, name, value in inline:
                if not compare(env[name], value):
                    return False
            for fn in other:  # noqa: SIM110 - a plain loop is faster than all(genexpr)
                if not fn(env):
                    return False
            return True

        return all_of

    def any_of(env: Env) -> bool:
        for compare, name, value in inline:
            if compare(env[name], value):
                return True
        for fn in other:  # noqa: SIM110 - a plain loop is faster than any(genexpr)
            if fn(env):
                return True
        return False

    return any_of


def _inline_test(e: Expr) -> tuple[Callable[[Any, Any], bool], str, Scalar] | None:
    """``feature <op> constant`` as (operator function, name, constant), else None."""
    if isinstance(e, Cmp) and isinstance(e.left, Var) and isinstance(e.right, Const):
        return OPERATOR[e.op], e.left.name, e.right.value
    return None


def _call(e: Call) -> Fn:
    args = [compile_expr(a) for a in e.args]
    if e.func == "round":
        x, step = args[0], int(e.args[1].value) if isinstance(e.args[1], Const) else 1
        return lambda env: math.floor(x(env) / step + 0.5) * step
    if e.func == "abs":
        (x,) = args
        return lambda env: abs(x(env))
    if e.func in ("clamp", "between"):
        x, lo, hi = args
        if e.func == "between":
            return lambda env: lo(env) <= x(env) <= hi(env)
        return lambda env: min(max(x(env), lo(env)), hi(env))
    pick = min if e.func == "min" else max
    if len(args) == 2:
        a, b = args
        return lambda env: pick(a(env), b(env))
    return lambda env: pick([f(env) for f in args])


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
    _trace_log: TraceLog = field(repr=False)
    _final_env: Env = field(repr=False)
    _undo: Undo = field(repr=False)
    _evaluator: PolicyEvaluator = field(repr=False)

    @property
    def line_change_fen(self) -> int:
        return self.line_fen - self.previous_line_fen

    @property
    def inputs(self) -> dict[str, Any]:
        """The features the decision saw (for the audit record)."""
        return {name: self._final_env[name] for name in self._evaluator.policy.features}

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
            for index, matched, _ in self._trace_rows
            if matched is not None and isinstance(step := steps[index], ScorecardStep)
        ]

    @property
    def trace(self) -> list[TraceStep]:
        env = dict(self._final_env)
        undo = self._undo
        position = len(undo)
        steps: list[TraceStep] = []
        for row in reversed(self._trace_rows):
            while position > row[2]:
                position -= 1
                var, old = undo[position]
                env[var] = old
            steps.append(self._evaluator.render_trace_row(row, env))
        return steps[::-1]

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
    """A policy compiled to closures; ``evaluate`` decides one account."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.defaults: Env = {name: value for name, (_, value) in policy.variables.items()}
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
        self._fast_check = _FastCheck(policy)
        self.runners: list[tuple[Fn | None, Runner]] = [
            (compile_expr(step.guard) if step.guard is not None else None, self._runner(step))
            for step in policy.steps
        ]
        self._reasons_cache: dict[int, list[str]] = {}

    def evaluate(self, features: Mapping[str, Any], *, checked: bool = True) -> Decision:
        """Decide one account; ``checked`` validates the inputs against the feature schema."""
        # Variables start from their declared defaults even if the caller sent a same-named
        # extra key: only declared features are inputs.
        env: Env = dict(self.check_input(features) if checked else features)
        env.update(self.defaults)
        env["line_fen"] = previous = env[self.current_line]
        env["action"] = self.policy.default_action
        undo: Undo = []
        state: State = [self.policy.default_action, 0, None, False, undo]
        trace: TraceLog = []
        record = trace.append
        for guard, run in self.runners:
            if state[3]:
                break
            if guard is not None and not guard(env):
                record(None)
                record(len(undo))
                continue
            before = len(undo)
            record(run(env, state))
            record(before)
        mask = state[1]
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
            state[0],
            env["line_fen"],
            previous,
            mask,
            list(reasons),
            state[2],
            {name: env[var] for name, var in p.sub_lines.items()},
            trace,
            env,
            undo,
            self,
        )

    def check_input(self, features: Mapping[str, Any]) -> Mapping[str, Any]:
        """Every feature present, of its declared type, inside its declared range.

        The common case (all good, exact types) is a handful of C-level passes; anything
        else takes the per-feature loop, which converts integers given for float features
        to floats, and only a failure builds the detailed list of problems."""
        if self._fast_check(features):
            return features
        return self._check_each(features)

    def _check_each(self, features: Mapping[str, Any]) -> Mapping[str, Any]:
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

    def render_trace_row(self, row: TraceRow, env: Env) -> TraceStep:
        """One trace row, given the variables as they were before the step ran."""
        index, matched, _ = row
        step = self.policy.steps[index]
        kind = type(step).__name__.removesuffix("Step").lower()
        values = {name: env[name] for name in step.reads}
        return TraceStep(step.id, kind, matched is not None, matched or (), values)

    # -- step runners -------------------------------------------------------------------

    def _runner(self, step: Step) -> Runner:
        if isinstance(step, ExpressionStep):
            assigns = self._assigns(step.assigns)

            def run_expression(env: Env, state: State) -> tuple[str, ...]:
                assigns(env, state[4])
                return ()

            return run_expression
        if isinstance(step, MatrixStep):
            return self._matrix(step)
        if isinstance(step, ScorecardStep):
            source, target = step.score, step.assign
            as_float = self.policy.variables[target][0] == "float"
            used = (f"{step.scorecard_key}@{step.scorecard_version}",)

            def run_scorecard(env: Env, state: State) -> tuple[str, ...]:
                state[4].append((target, env[target]))
                env[target] = float(env[source]) if as_float else env[source]
                return used

            return run_scorecard
        if isinstance(step, RulesetStep):
            tests = [
                (b.id, compile_expr(b.condition), self._effect(b.effect, step.hit))
                for b in step.branches
            ]
            severities = [SEVERITY.get(b.effect.action or "", -1) for b in step.branches]
            return self._hits(step.hit, tests, severities, None)
        return self._table(step)

    def _assigns(self, assigns: tuple[tuple[str, Expr], ...]) -> Callable[[Env, Undo], None]:
        compiled = [
            (var, compile_expr(e), self.policy.variables[var][0] == "float") for var, e in assigns
        ]

        def run(env: Env, undo: Undo) -> None:
            for var, fn, as_float in compiled:
                undo.append((var, env[var]))
                env[var] = float(fn(env)) if as_float else fn(env)

        return run

    def _line(self, change: LineChange) -> Callable[[Env, Undo], None]:
        fn, kind = compile_expr(change.expr), change.kind
        step, low, high = (
            self.policy.line_step_fen,
            self.policy.line_min_fen,
            self.policy.line_max_fen,
        )

        def run(env: Env, undo: Undo) -> None:
            value = fn(env)
            line = env["line_fen"]
            undo.append(("line_fen", line))
            target = (
                value
                if kind == "to"
                else line + value
                if kind == "by_fen"
                else (line * (100 + value) / 100)
            )
            env["line_fen"] = max(low, min(high, math.floor(target / step + 0.5) * step))

        return run

    def _effect(self, effect: Effect, hit: str) -> Callable[[Env, State], None]:
        """Apply one matched effect; under ``collect`` the action is settled afterwards."""
        sets = self._assigns(effect.sets) if effect.sets else None
        line = self._line(effect.line) if effect.line is not None else None
        mask, notice, stop = effect.reason_mask, effect.notice, effect.stop
        action = effect.action if hit != "collect" else None

        def apply(env: Env, state: State) -> None:
            if sets is not None:
                sets(env, state[4])
            if line is not None:
                line(env, state[4])
            if action is not None:
                state[4].append(("action", state[0]))
                env["action"] = state[0] = action
            state[1] |= mask
            if notice is not None:
                state[2] = notice
            if stop:
                state[3] = True

        return apply

    def _hits(
        self,
        hit: str,
        tests: Sequence[tuple[str, Callable[[Any], Any], Callable[[Env, State], None]]],
        severities: list[int],
        prepare: Callable[[Env], Any] | None,
    ) -> Runner:
        """``prepare`` reads a table's input tuple (None: rule conditions read ``env``)."""
        if hit != "collect":
            firsts = [((rule_id,), test, apply) for rule_id, test, apply in tests]

            def run_first(env: Env, state: State) -> tuple[str, ...]:
                subject = env if prepare is None else prepare(env)
                for matched, test, apply in firsts:
                    if test(subject):
                        apply(env, state)
                        return matched
                return ()

            return run_first

        by_id = dict(zip((t[0] for t in tests), severities, strict=True))

        rows = [(rule_id, test, apply, by_id[rule_id]) for rule_id, test, apply in tests]

        def run_collect(env: Env, state: State) -> tuple[str, ...]:
            """Every matching row applies in order (each sees the previous ones' effects,
            but the tests all see the values from before the node)."""
            subject = env if prepare is None else prepare(env)
            matched = [row for row in rows if row[1](subject)]
            if not matched:
                return ()
            before, worst = state[0], -1
            for _, _, apply, severity in matched:
                apply(env, state)
                if severity > worst:
                    worst = severity
            if worst >= 0:
                state[4].append(("action", before))
                env["action"] = state[0] = ACTIONS[worst]
            return tuple([row[0] for row in matched])

        return run_collect

    def _table(self, step: TableStep) -> Runner:
        read_inputs = _tuple_getter(step.inputs)
        tests = [
            (row.id, _row_test(row.cells), self._effect(row.effect, step.hit)) for row in step.rows
        ]
        severities = [SEVERITY.get(r.effect.action or "", -1) for r in step.rows]
        return self._hits(step.hit, tests, severities, read_inputs)

    def _matrix(self, step: MatrixStep) -> Runner:
        row_fn, col_fn = compile_expr(step.row_input), compile_expr(step.column_input)
        row_breaks, col_breaks = list(step.row_breaks), list(step.column_breaks)
        width, values, target = len(col_breaks) + 1, step.values, step.assign
        cells = [(f"{r},{c}",) for r in range(len(row_breaks) + 1) for c in range(width)]

        def run_matrix(env: Env, state: State) -> tuple[str, ...]:
            cell = bisect_right(row_breaks, row_fn(env)) * width + bisect_right(
                col_breaks, col_fn(env)
            )
            state[4].append((target, env[target]))
            env[target] = values[cell]
            return cells[cell]

        return run_matrix


MAX_INT = 2**53
REASON_CACHE_SIZE = 4096
#: Exact Python type each feature kind must arrive as ("number": int or float, made float).
CHECK_TYPES: dict[str, Any] = {
    "int": int,
    "money": int,
    "float": "number",
    "bool": bool,
    "enum": str,
}
ACTIONS: dict[int, str] = {code: action for action, code in SEVERITY.items()}


class _FastCheck:
    """The input check for the common case, one C-level pass per concern: every feature
    read at once, the exact Python types compared as one tuple, the numbers compared with
    their bounds (the 2**53 integer limit and finiteness folded in) and the enums looked
    up. False means "look closer", not "refused"."""

    def __init__(self, policy: Policy) -> None:
        specs = list(policy.bundle.features.items())
        names = [name for name, _ in specs]
        self.read = itemgetter(*names) if len(names) > 1 else lambda m: (m[names[0]],)
        self.types = tuple(FAST_TYPES[spec.type] for _, spec in specs)
        numeric = [i for i, (_, spec) in enumerate(specs) if spec.type in NUMERIC_LIMITS]
        self.read_numbers = _index_getter(numeric)
        self.lows = tuple(_bound(specs[i][1].type, specs[i][1].min, low=True) for i in numeric)
        self.highs = tuple(_bound(specs[i][1].type, specs[i][1].max, low=False) for i in numeric)
        self.enums = [
            (i, frozenset(spec.values or ()))
            for i, (_, spec) in enumerate(specs)
            if spec.type == "enum"
        ]

    def __call__(self, features: Mapping[str, Any]) -> bool:
        try:
            values = self.read(features)
        except KeyError:
            return False
        if tuple(map(type, values)) != self.types:
            return False
        numbers = self.read_numbers(values)
        if not (
            all(map(operator.le, self.lows, numbers)) and all(map(operator.le, numbers, self.highs))
        ):
            return False
        for i, allowed in self.enums:  # noqa: SIM110 - a plain loop is faster than all(genexpr)
            if values[i] not in allowed:
                return False
        return True


#: Exact Python type of each feature kind on the fast path (floats as float only).
FAST_TYPES: dict[str, type] = {"int": int, "money": int, "float": float, "bool": bool, "enum": str}
#: The widest range each numeric kind allows: integers below 2**53, floats finite.
NUMERIC_LIMITS: dict[str, float] = {
    "int": MAX_INT - 1,
    "money": MAX_INT - 1,
    "float": sys.float_info.max,
}


def _bound(kind: str, declared: float | None, *, low: bool) -> float:
    limit = NUMERIC_LIMITS[kind]
    if low:
        return -limit if declared is None else max(declared, -limit)
    return limit if declared is None else min(declared, limit)


def _index_getter(indexes: list[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    if len(indexes) > 1:
        return itemgetter(*indexes)
    return lambda values: tuple(values[i] for i in indexes)


def _tuple_getter(exprs: tuple[Expr, ...]) -> Callable[[Env], tuple[Any, ...]]:
    """The values of a table's input columns; plain names are read by one ``itemgetter``."""
    if len(exprs) > 1 and all(isinstance(e, Var) for e in exprs):
        return itemgetter(*(e.name for e in exprs if isinstance(e, Var)))
    fns = [compile_expr(e) for e in exprs]
    return lambda env: tuple(fn(env) for fn in fns)


def _row_test(cells: tuple[Cell, ...]) -> Callable[[tuple[Any, ...]], bool]:
    checks = [_cell_test(c, i) for i, c in enumerate(cells) if not isinstance(c, AnyCell)]
    if not checks:
        return lambda values: True
    if len(checks) == 1:
        return checks[0]

    def test(values: tuple[Any, ...]) -> bool:
        for check in checks:  # noqa: SIM110 - a plain loop is faster than all(genexpr)
            if not check(values):
                return False
        return True

    return test


def _cell_test(cell: Cell, i: int) -> Callable[[tuple[Any, ...]], bool]:
    """The test of one cell on the ``i``-th value of a table row's inputs."""
    if isinstance(cell, Members):
        members = cell.values
        return lambda v: v[i] in members
    assert isinstance(cell, Interval)
    lo, hi = cell.lo, cell.hi
    if cell.lo_closed and cell.hi_closed:
        return lambda v: lo <= v[i] <= hi
    if cell.lo_closed:
        return lambda v: lo <= v[i] < hi
    if cell.hi_closed:
        return lambda v: lo < v[i] <= hi
    return lambda v: lo < v[i] < hi


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
