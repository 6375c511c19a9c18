"""A policy compiled to one Python function: the engine behind the online evaluator.

The validated policy tree is translated node by node into a Python syntax tree, compiled
once and then called for every account. Each policy name becomes a local variable, each
rule a branch of an ``if`` chain and each constant a literal, so one decision costs about
what the same policy written out by hand costs (an interpreter of the tree, or a chain of
closures, pays a function call for every node of every expression).

Why this is safe: nothing an analyst wrote is ever parsed as Python to be run. The policy's
expressions were parsed and type-checked by :mod:`.expr` into a typed tree of ten node kinds;
this module builds ``ast`` nodes from that tree directly (never source text), so a policy
constant can only become an ``ast.Constant`` and a policy name only a local variable named
``v_<name>`` (or ``v__<n>`` when the name is not an identifier). The generated function sees
no builtins beyond the handful listed in ``NAMESPACE``.

The function takes the feature mapping and returns ``(action, line_fen, reason_mask,
notice, sub_lines, trace)``. ``trace`` holds two entries for every node reached, in order:
the values of the variables the node reads (a tuple, as they were before it ran), then what
matched: ``None`` when the node was skipped, ``()`` when it ran and nothing matched, the
matched id as a 1-tuple for first-hit nodes and scorecards, the cell label for matrices,
and one boolean per row for ``collect`` nodes.
"""

from __future__ import annotations

import ast
import math
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from limitwise.policy.compiled import (
    Effect,
    ExpressionStep,
    LineChange,
    MatrixStep,
    Policy,
    RulesetStep,
    ScorecardStep,
    Step,
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

#: Everything generated code can call: no other builtins are reachable from it.
NAMESPACE: dict[str, Any] = {
    "__builtins__": {},
    "min": min,
    "max": max,
    "abs": abs,
    "float": float,
    "int": int,
    "bool": bool,
    "str": str,
    "type": type,
    "KeyError": KeyError,
    "floor": math.floor,
    "bisect_right": bisect_right,
}
BUILTIN_NAMES = ("line_fen", "action")
MAX_INT = 2**53
#: Exact Python type of each feature kind in the input check (floats as float only).
FAST_TYPES: dict[str, type] = {"int": int, "money": int, "float": float, "bool": bool, "enum": str}
#: The widest range each numeric kind allows: integers below 2**53, floats finite.
NUMERIC_LIMITS: dict[str, float] = {
    "int": MAX_INT - 1,
    "money": MAX_INT - 1,
    "float": sys.float_info.max,
}
Load = Callable[[str], ast.expr]
#: features -> (action, line_fen, reason_mask, notice, sub_lines, trace); None: not checked
DecideFn = Callable[[Mapping[str, Any]], tuple[Any, ...] | None]

BIN_OPS: dict[str, type[ast.operator]] = {
    "+": ast.Add,
    "-": ast.Sub,
    "*": ast.Mult,
    "/": ast.Div,
}
CMP_OPS: dict[str, type[ast.cmpop]] = {
    "==": ast.Eq,
    "!=": ast.NotEq,
    "<": ast.Lt,
    "<=": ast.LtE,
    ">": ast.Gt,
    ">=": ast.GtE,
}


# -- expressions ------------------------------------------------------------------------


class Expressions:
    """Python expressions computing policy expressions; ``load`` gives the node reading a
    name. With ``codes``, text is replaced by integer codes and ``in`` by ``==`` tests (the
    form numba compiles: :mod:`.kernel`)."""

    def __init__(self, load: Load, codes: Mapping[str, int] | None = None) -> None:
        self.load, self.codes = load, codes

    def emit(self, e: Expr) -> ast.expr:
        """A ``float``-typed ``min``/``max``/``clamp``/``abs``/``if`` is wrapped in
        ``float()``: Python's ``min(1, 2.5)`` is the int 1, but the language says a double."""
        node = self._raw(e)
        if e.type == "float" and isinstance(e, (Call, IfElse)):
            return call_node("float", node)
        return node

    def constant(self, value: Scalar) -> ast.expr:
        if isinstance(value, str) and self.codes is not None:
            return ast.Constant(self.codes[value])
        return ast.Constant(value)

    def _raw(self, e: Expr) -> ast.expr:
        emit = self.emit
        if isinstance(e, Const):
            return self.constant(e.value)
        if isinstance(e, Var):
            return self.load(e.name)
        if isinstance(e, Neg):
            return ast.UnaryOp(ast.USub(), emit(e.arg))
        if isinstance(e, Not):
            return ast.UnaryOp(ast.Not(), emit(e.arg))
        if isinstance(e, Bin):
            return ast.BinOp(emit(e.left), BIN_OPS[e.op](), emit(e.right))
        if isinstance(e, Cmp):
            return ast.Compare(emit(e.left), [CMP_OPS[e.op]()], [emit(e.right)])
        if isinstance(e, BoolOp):
            op = ast.And() if e.op == "and" else ast.Or()
            return ast.BoolOp(op, [emit(a) for a in e.args])
        if isinstance(e, In):
            return self.membership(e)
        if isinstance(e, IfElse):
            return ast.IfExp(emit(e.cond), emit(e.then), emit(e.otherwise))
        return self._function(e)

    def membership(self, e: In) -> ast.expr:
        arg = self.emit(e.arg)
        if self.codes is None:
            test = ast.NotIn() if e.negate else ast.In()
            return ast.Compare(arg, [test], [_literal(frozenset(e.values))])
        tests = [ast.Compare(arg, [ast.Eq()], [self.constant(v)]) for v in e.values]
        found = _joined(ast.Or(), list(tests))
        return ast.UnaryOp(ast.Not(), found) if e.negate else found

    def _function(self, e: Call) -> ast.expr:
        args = [self.emit(a) for a in e.args]
        if e.func == "round":
            step = e.args[1].value if isinstance(e.args[1], Const) else 1
            return round_step(args[0], int(step))
        if e.func == "between":
            x, lo, hi = args
            return ast.Compare(lo, [ast.LtE(), ast.LtE()], [x, hi])
        if e.func == "clamp":
            x, lo, hi = args
            return call_node("min", call_node("max", x, lo), hi)
        return call_node(e.func, *args)


def round_step(x: ast.expr, step: int) -> ast.expr:
    """``floor(x / step + 0.5) * step``: half up, in doubles, an int (the policy rounding)."""
    scaled = ast.BinOp(ast.BinOp(x, ast.Div(), ast.Constant(step)), ast.Add(), ast.Constant(0.5))
    return ast.BinOp(call_node("floor", scaled), ast.Mult(), ast.Constant(step))


def compile_expr(expr: Expr) -> Callable[[Mapping[str, Any]], Any]:
    """One expression as a function of a mapping of names to values."""

    def load(name: str) -> ast.expr:
        return ast.Subscript(name_node("env"), ast.Constant(name), ast.Load())

    body: list[ast.stmt] = [ast.Return(Expressions(load).emit(expr))]
    fn: Callable[[Mapping[str, Any]], Any] = define(function_module("expression", ["env"], body))
    return fn


def function_module(name: str, arguments: list[str], body: list[ast.stmt]) -> ast.Module:
    """A module holding ``def name(*arguments): body`` (names of this package's choosing)."""
    if not all(n.isidentifier() for n in (name, *arguments)):
        raise ValueError(f"not identifiers: {name!r}, {arguments!r}")
    module = ast.parse(f"def {name}({', '.join(arguments)}): pass")  # a template, no policy text
    function = module.body[0]
    assert isinstance(function, ast.FunctionDef)
    function.body = body
    return ast.fix_missing_locations(module)


def define(module: ast.Module, extra: Mapping[str, Any] | None = None) -> Any:
    """Compile a module of one function in the restricted namespace (plus ``extra``) and
    return the function."""
    function = module.body[0]
    assert isinstance(function, ast.FunctionDef)
    namespace = {**NAMESPACE, **(extra or {})}
    exec(compile(module, f"<policy {function.name}>", "exec"), namespace)
    return namespace[function.name]


def _literal(value: Any) -> ast.Constant:
    """A constant node; CPython also compiles tuples and frozensets of constants (typeshed
    lists only scalars), which keeps lookup tables and ``in`` sets out of the namespace."""
    return ast.Constant(value)


# -- the decision function --------------------------------------------------------------


class DecisionFunction:
    """Builds the decision function of a policy (``build``) and says what its trace holds
    (``snapshot_names``: which variables each step's trace entry shows).

    The hooks (``feature_loads`` to ``band``, and ``module``) are what the whole-book
    kernel (:class:`.kernel.KernelFunction`) does differently."""

    def __init__(self, policy: Policy, codes: Mapping[str, int] | None = None) -> None:
        self.policy = policy
        names = [*policy.features, *policy.variables, *BUILTIN_NAMES]
        self.locals = {name: _local_name(name, i) for i, name in enumerate(names)}
        self.mutable = frozenset([*policy.variables, *BUILTIN_NAMES])
        self.snapshot_names: list[tuple[str, ...]] = [
            tuple(name for name in step.reads if name in self.mutable) for step in policy.steps
        ]
        self.features_read: set[str] = set()
        self.exprs = Expressions(self.load, codes)

    def build(self, *, checked: bool) -> DecideFn:
        """The decision function. ``checked``: it first proves the input plainly valid
        (every feature present, of its exact type, inside its range) and returns ``None``
        when it is not, leaving conversions and the list of problems to the caller."""
        fn: DecideFn = define(self.module(checked=checked))
        return fn

    def source(self, *, checked: bool = True) -> str:
        """The generated function as Python source, for reading (``policy python``)."""
        return ast.unparse(self.module(checked=checked))

    def module(self, *, checked: bool) -> ast.Module:
        self.features_read = set(self.policy.features) if checked else set()
        body, state = self.body(), self.initial_state()  # first: they say what is read
        return function_module(
            "decide", ["features"], [*self.feature_loads(checked=checked), *state, *body]
        )

    def body(self) -> list[ast.stmt]:
        """Every step, then the result."""
        steps = [stmt for i, step in enumerate(self.policy.steps) for stmt in self.step(i, step)]
        return [*steps, *self.result()]

    # -- hooks ---------------------------------------------------------------------------

    def feature_loads(self, *, checked: bool) -> list[ast.stmt]:
        """Read the features the steps use (checked: all of them; a missing one, or one
        that is not plainly valid, returns ``None``)."""
        loads: list[ast.stmt] = [
            self.assign(name, _item(name_node("features"), ast.Constant(name)))
            for name in self.policy.features
            if name in self.features_read
        ]
        if not checked:
            return loads
        missing = ast.ExceptHandler(name_node("KeyError"), None, [ast.Return(ast.Constant(None))])
        return [ast.Try(loads, [missing], [], []), *self.input_check()]

    def text(self, value: str) -> ast.expr:
        """An action constant."""
        return self.exprs.constant(value)

    def notice_value(self, notice: str | None) -> ast.expr:
        return ast.Constant(notice)

    def record(self, value: ast.expr) -> list[ast.stmt]:
        """Append one entry to the trace."""
        return [ast.Expr(call_node("record", value))]

    def result(self) -> list[ast.stmt]:
        names = self.policy.sub_lines
        keys: list[ast.expr | None] = [ast.Constant(n) for n in names]
        sub_lines = ast.Dict(keys, [self.load(v) for v in names.values()])
        values = [*self.decision_values(), sub_lines, name_node("trace")]
        return [ast.Return(ast.Tuple(values, ast.Load()))]

    def decision_values(self) -> list[ast.expr]:
        """Action, line, reason set and notice, as every ``result`` hands them out."""
        return [self.load("action"), self.load("line_fen"), name_node("mask"), name_node("notice")]

    def band(self, breaks: tuple[int | float, ...], x: ast.Name) -> ast.expr:
        """How many breakpoints are <= x."""
        return call_node("bisect_right", _literal(breaks), x)

    # -- the steps -----------------------------------------------------------------------

    def input_check(self) -> list[ast.stmt]:
        """Per feature: ``if not (type(v_x) is int and lo <= v_x <= hi): return None``."""
        checks: list[ast.stmt] = []
        for name, spec in self.policy.bundle.features.items():
            value = self.load(name)
            exact = FAST_TYPES[spec.type]
            tests: list[ast.expr] = [
                ast.Compare(call_node("type", value), [ast.Is()], [name_node(exact.__name__)])
            ]
            if spec.type in NUMERIC_LIMITS:
                low = _literal(_bound(spec.type, spec.min, low=True))
                high = _literal(_bound(spec.type, spec.max, low=False))
                tests.append(ast.Compare(low, [ast.LtE(), ast.LtE()], [value, high]))
            elif spec.values:
                tests.append(ast.Compare(value, [ast.In()], [_literal(frozenset(spec.values))]))
            invalid = ast.UnaryOp(ast.Not(), _joined(ast.And(), tests))
            checks.append(ast.If(invalid, [ast.Return(ast.Constant(None))], []))
        return checks

    def load(self, name: str) -> ast.expr:
        if name not in self.mutable:
            self.features_read.add(name)
        return name_node(self.locals[name])

    def expr(self, e: Expr) -> ast.expr:
        return self.exprs.emit(e)

    def assign(self, name: str, value: ast.expr) -> ast.stmt:
        return ast.Assign([_store(self.locals[name])], value)

    def initial_state(self) -> list[ast.stmt]:
        """Every variable from its declared value, the line from the current one."""
        p = self.policy
        return [
            *(self.assign(name, self.exprs.constant(v)) for name, (_, v) in p.variables.items()),
            self.assign("line_fen", self.load(p.current_line)),
            self.assign("action", self.text(p.default_action)),
            _set("mask", ast.Constant(0)),
            _set("notice", self.notice_value(None)),
            *self.trace_start(),
        ]

    def trace_start(self) -> list[ast.stmt]:
        return [
            _set("trace", ast.List([], ast.Load())),
            _set("record", ast.Attribute(name_node("trace"), "append", ast.Load())),
        ]

    def step(self, index: int, step: Step) -> list[ast.stmt]:
        snapshot = ast.Tuple([self.load(n) for n in self.snapshot_names[index]], ast.Load())
        body = self.step_body(step)
        if step.guard is None:
            return [*self.record(snapshot), *body]
        skipped = self.record(ast.Constant(None)) or [ast.Pass()]
        return [
            *self.record(snapshot),
            ast.If(self.expr(step.guard), body or [ast.Pass()], skipped),
        ]

    def step_body(self, step: Step) -> list[ast.stmt]:
        if isinstance(step, ExpressionStep):
            sets = [self.assign(var, self.assigned(var, e)) for var, e in step.assigns]
            return [*sets, *self.record(_literal(()))]
        if isinstance(step, ScorecardStep):
            score = self.assigned(
                step.assign, Var(step.score, self.policy.features[step.score].type)
            )
            used = (f"{step.scorecard_key}@{step.scorecard_version}",)
            return [self.assign(step.assign, score), *self.record(_literal(used))]
        if isinstance(step, MatrixStep):
            return self.matrix(step)
        if isinstance(step, RulesetStep):
            branches = [(b.id, b.condition, b.effect) for b in step.branches]
        else:
            branches = [
                (row.id, step.row_condition(i), row.effect) for i, row in enumerate(step.rows)
            ]
        if step.hit == "collect":
            return self.collect(branches)
        return self.first(branches)

    def assigned(self, var: str, e: Expr) -> ast.expr:
        """``e`` as the value of ``var``: a float variable always holds a float."""
        value = self.expr(e)
        wrapped = isinstance(value, ast.Call) and getattr(value.func, "id", "") == "float"
        if self.policy.variables[var][0] == "float" and not wrapped:
            return call_node("float", value)
        return value

    def matrix(self, step: MatrixStep) -> list[ast.stmt]:
        width = len(step.column_breaks) + 1
        rows = self.band(step.row_breaks, name_node("row_x"))
        columns = self.band(step.column_breaks, name_node("column_x"))
        cell = ast.BinOp(ast.BinOp(rows, ast.Mult(), ast.Constant(width)), ast.Add(), columns)
        labels = tuple((f"{r},{c}",) for r in range(len(step.row_breaks) + 1) for c in range(width))
        values = step.values
        if self.policy.variables[step.assign][0] == "float":  # one element type (for numba)
            values = tuple(float(v) for v in values)
        return [
            _set("row_x", self.expr(step.row_input)),
            _set("column_x", self.expr(step.column_input)),
            _set("cell", cell),
            self.assign(step.assign, _item(_literal(values), name_node("cell"))),
            *self.record(_item(_literal(labels), name_node("cell"))),
        ]

    def first(self, branches: list[tuple[str, Expr, Effect]]) -> list[ast.stmt]:
        """``if``/``elif`` over the rules: the first that holds applies."""
        chain: list[ast.stmt] = self.record(_literal(()))
        for rule_id, condition, effect in reversed(branches):
            body = [*self.effect(effect, collect=False), *self.record(_literal((rule_id,)))]
            if effect.stop:
                body += self.result()
            chain = [ast.If(self.expr(condition), body or [ast.Pass()], chain)]
        return chain

    def collect(self, branches: list[tuple[str, Expr, Effect]]) -> list[ast.stmt]:
        """Every row is tested on the values from before the node, then the matched rows
        apply in order; the most severe matched action wins; any matched stop stops."""
        flags = [f"hit_{k}" for k in range(len(branches))]
        out: list[ast.stmt] = [
            _set(flag, self.expr(condition))
            for flag, (_, condition, _) in zip(flags, branches, strict=True)
        ]
        for flag, (_, _, effect) in zip(flags, branches, strict=True):
            body = self.effect(effect, collect=True)
            if body:
                out.append(ast.If(name_node(flag), body, []))
        by_severity: dict[int, list[str]] = {}
        for flag, (_, _, effect) in zip(flags, branches, strict=True):
            if effect.action is not None:
                by_severity.setdefault(SEVERITY[effect.action], []).append(flag)
        actions: list[ast.stmt] = []
        for severity in sorted(by_severity):  # built inside out: the most severe tested first
            action = self.assign("action", self.text(ACTIONS[severity]))
            actions = [ast.If(_any(by_severity[severity]), [action], actions)]
        out += actions
        out += self.record(ast.Tuple([name_node(f) for f in flags], ast.Load()))
        stops = [flag for flag, (_, _, effect) in zip(flags, branches, strict=True) if effect.stop]
        if stops:
            out.append(ast.If(_any(stops), self.result(), []))
        return out

    def effect(self, effect: Effect, *, collect: bool) -> list[ast.stmt]:
        """Sets, the line, then (not under ``collect``) the action, then reasons and notice."""
        out = [self.assign(var, self.assigned(var, e)) for var, e in effect.sets]
        if effect.line is not None:
            out.append(self.assign("line_fen", self.settled_line(effect.line)))
        if effect.action is not None and not collect:
            out.append(self.assign("action", self.text(effect.action)))
        if effect.reason_mask:
            out.append(ast.AugAssign(_store("mask"), ast.BitOr(), ast.Constant(effect.reason_mask)))
        if effect.notice is not None:
            out.append(_set("notice", self.notice_value(effect.notice)))
        return out

    def settled_line(self, change: LineChange) -> ast.expr:
        """The target rounded half up to the line step and clamped to the product range."""
        p = self.policy
        value, line = self.expr(change.expr), self.load("line_fen")
        if change.kind == "to":
            target = value
        elif change.kind == "by_fen":
            target = ast.BinOp(line, ast.Add(), value)
        else:
            percent = ast.BinOp(ast.Constant(100), ast.Add(), value)
            target = ast.BinOp(ast.BinOp(line, ast.Mult(), percent), ast.Div(), ast.Constant(100))
        rounded = round_step(target, p.line_step_fen)
        capped = call_node("min", ast.Constant(p.line_max_fen), rounded)
        return call_node("max", ast.Constant(p.line_min_fen), capped)


ACTIONS: dict[int, str] = {code: action for action, code in SEVERITY.items()}


def _bound(kind: str, declared: float | None, *, low: bool) -> int | float:
    """The range check's bound: the declared one inside the kind's limit (an int for whole
    numbers, so integer features compare with integers)."""
    limit = NUMERIC_LIMITS[kind]
    if low:
        bound = -limit if declared is None else max(declared, -limit)
    else:
        bound = limit if declared is None else min(declared, limit)
    return int(bound) if kind != "float" and bound == int(bound) else bound


def _local_name(name: str, index: int) -> str:
    return f"v_{name}" if name.isidentifier() else f"v__{index}"


def name_node(identifier: str) -> ast.Name:
    return ast.Name(identifier, ast.Load())


def _store(identifier: str) -> ast.Name:
    return ast.Name(identifier, ast.Store())


def _set(identifier: str, value: ast.expr) -> ast.stmt:
    return ast.Assign([_store(identifier)], value)


def call_node(function: str, *args: ast.expr) -> ast.Call:
    return ast.Call(name_node(function), list(args), [])


def _item(sequence: ast.expr, index: ast.expr) -> ast.expr:
    return ast.Subscript(sequence, index, ast.Load())


def _any(flags: Iterable[str]) -> ast.expr:
    return _joined(ast.Or(), [name_node(f) for f in flags])


def _joined(op: ast.boolop, values: list[ast.expr]) -> ast.expr:
    """``a and b and ...`` (or ``or``); one value stands alone (``ast`` wants two or more)."""
    return values[0] if len(values) == 1 else ast.BoolOp(op, values)
