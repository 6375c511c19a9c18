"""Whole-book evaluation: the same node semantics as :mod:`.online`, compiled to columns.

The node logic is written once over a small :class:`Backend` interface and emitted either
as polars expressions (:mod:`.polars_plan`) or as SQL (:mod:`.sql`, DuckDB and Spark).
Every node becomes a few stages of column definitions: first the matched rule or row per
account (``_lw_hit_*`` / ``_lw_m_*``), then the variables its effects change, each stage
after the arm columns (``_lw_arm_*``) its choices read, for a backend that wants computed
choices as columns of their own (see ``Backend.arm_reads``). The
action is carried as its severity code, the notice as its 1-based index (0 = none) and the
reasons as a bit set (bit i = the i-th code of the catalogue); all three are turned into
text in the final projection. These internal integers have a :data:`Code` type of their
own, so a backend may store them narrower than a 64-bit ``int``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

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
    Type,
    Var,
)
from limitwise.policy.schemas import SEVERITY

T = TypeVar("T")
Code = Literal["hit", "action", "notice", "mask"]
"""Internal integers: a hit or band number (>= 0), a severity code, a notice number, a
reason set. They mix only with their own kind (and bools), never with policy values."""
Kind = Type | Code
ACTION, MASK, NOTICE, STOP, LINE = "_lw_action", "_lw_mask", "_lw_notice", "_lw_stop", "line_fen"


class Backend(ABC, Generic[T]):
    """The column operations the node logic needs; one implementation per engine."""

    @abstractmethod
    def const(self, value: Scalar, type_: Kind) -> T: ...
    @abstractmethod
    def col(self, name: str) -> T: ...
    @abstractmethod
    def unary(self, op: str, arg: T) -> T: ...
    @abstractmethod
    def binary(self, op: str, left: T, right: T) -> T:
        """``+ - * /`` (true division), ``== != < <= > >=``, ``and or``, ``|`` (bitwise)."""

    @abstractmethod
    def is_in(self, arg: T, values: tuple[Scalar, ...], as_float: bool) -> T: ...
    @abstractmethod
    def case(self, branches: list[tuple[T, T]], otherwise: T) -> T: ...
    @abstractmethod
    def extreme(self, func: str, args: list[T]) -> T:
        """``min`` / ``max`` across columns (LEAST / GREATEST)."""

    @abstractmethod
    def round_step(self, value: T, step: int) -> T:
        """``floor(value / step + 0.5) * step`` as a 64-bit integer."""

    def settle(self, value: T, step: int, low: int, high: int) -> T:
        """``max(low, min(high, round_step(value, step)))``, a 64-bit integer."""
        rounded = self.round_step(value, step)
        high_cut = self.extreme("min", [self.const(high, "int"), rounded])
        return self.extreme("max", [self.const(low, "int"), high_cut])

    @abstractmethod
    def cast(self, value: T, type_: Kind) -> T:
        """To ``float`` (double), ``int`` (bool -> 0/1, 64-bit) or a code (bool -> 0/1)."""

    @abstractmethod
    def lookup(self, index: T, values: tuple[Scalar, ...], type_: Kind) -> T:
        """``values[index]`` for a 0-based ``hit`` column."""

    def arm_reads(self, value: T) -> frozenset[str] | None:
        """Whether a value chosen by ``case`` is better computed first as a column of its own,
        on every row: if so the columns it reads, else None (keep it inline). Polars computes
        a when/then arm on inputs masked to the rows that choose it, which sends its kernels
        down their slow null-aware paths; SQL needs nothing of the kind."""
        return None

    def column_name(self, var: str, version: int) -> str:
        """The column holding ``var`` after its ``version``-th change (SQL needs fresh names;
        polars overwrites in place, which frees the old column)."""
        return f"{var}__{version}"


@dataclass
class Stage(Generic[T]):
    columns: list[tuple[str, str, T]] = field(default_factory=list)
    """(variable, column name, expression) defined together over the previous stage."""


@dataclass
class Plan(Generic[T]):
    stages: list[Stage[T]]
    env: dict[str, T]
    """Final column reference of every variable (and of the internal ``_lw_*`` state)."""


class BatchCompiler(Generic[T]):
    """Compile a policy's steps into stages of column definitions for one backend."""

    def __init__(self, policy: Policy, backend: Backend[T]) -> None:
        self.policy, self.b = policy, backend
        self.versions: dict[str, int] = {}
        self.stages: list[Stage[T]] = []
        self.may_stop = False
        self.arms: list[dict[str, T]] = []
        """Arm columns for the next stage, by level (a level reads only lower ones)."""

    def compile(self) -> Plan[T]:
        b, p = self.b, self.policy
        env: dict[str, T] = {name: b.col(name) for name in p.features}
        for name, (type_, value) in p.variables.items():
            env[name] = b.const(value, type_)
        env[LINE] = b.col(p.current_line)
        env[ACTION] = b.const(SEVERITY[p.default_action], "action")
        env[MASK] = b.const(0, "mask")
        env[NOTICE] = b.const(0, "notice")
        env[STOP] = b.const(False, "bool")
        for step in p.steps:
            env = self.step(step, env)
        return Plan(self.stages, env)

    # -- expressions --------------------------------------------------------------------

    def expr(self, e: Expr, env: dict[str, T]) -> T:
        b = self.b
        if isinstance(e, Const):
            return b.const(e.value, e.type)
        if isinstance(e, Var):
            if e.name == "action":
                codes = [
                    (b.binary("==", env[ACTION], b.const(code, "action")), b.const(a, "str"))
                    for a, code in SEVERITY.items()
                ]
                return b.case(codes, b.const(self.policy.default_action, "str"))
            return env[e.name]
        if isinstance(e, Neg):
            return b.unary("-", self.expr(e.arg, env))
        if isinstance(e, Not):
            return b.unary("not", self.expr(e.arg, env))
        if isinstance(e, Bin):
            return b.binary(e.op, self.expr(e.left, env), self.expr(e.right, env))
        if isinstance(e, Cmp):
            return self.compare(e, env)
        if isinstance(e, BoolOp):
            parts = [self.expr(a, env) for a in e.args]
            out = parts[0]
            for part in parts[1:]:
                out = b.binary(e.op, out, part)
            return out
        if isinstance(e, In):
            if isinstance(e.arg, Var) and e.arg.name == "action":
                severities = tuple(SEVERITY[str(v)] for v in e.values)
                found = b.is_in(env[ACTION], severities, False)
            else:
                as_float = e.arg.type == "float" or any(isinstance(v, float) for v in e.values)
                found = b.is_in(self.expr(e.arg, env), e.values, as_float)
            return b.unary("not", found) if e.negate else found
        if isinstance(e, IfElse):
            then = self.expr(e.then, env)
            otherwise = self.expr(e.otherwise, env)
            if e.type == "float":
                then, otherwise = b.cast(then, "float"), b.cast(otherwise, "float")
            return self.case([(self.expr(e.cond, env), then)], otherwise)
        return self.call(e, env)

    def compare(self, e: Cmp, env: dict[str, T]) -> T:
        b = self.b
        for var, const in ((e.left, e.right), (e.right, e.left)):
            if isinstance(var, Var) and var.name == "action" and isinstance(const, Const):
                code = b.const(SEVERITY[str(const.value)], "action")
                return b.binary(e.op, env[ACTION], code)
        return b.binary(e.op, self.expr(e.left, env), self.expr(e.right, env))

    def call(self, e: Call, env: dict[str, T]) -> T:
        b = self.b
        args = [self.expr(a, env) for a in e.args]
        if e.type == "float":
            args = [
                b.cast(a, "float") if src.type == "int" else a
                for a, src in zip(args, e.args, strict=True)
            ]
        if e.func == "round":
            step = e.args[1]
            return b.round_step(args[0], int(step.value) if isinstance(step, Const) else 1)
        if e.func == "abs":
            return b.unary("abs", args[0])
        if e.func == "between":
            x, lo, hi = args
            return b.binary("and", b.binary(">=", x, lo), b.binary("<=", x, hi))
        if e.func == "clamp":
            x, lo, hi = args
            return b.extreme("min", [b.extreme("max", [x, lo]), hi])
        return b.extreme(e.func, args)

    # -- steps --------------------------------------------------------------------------

    def active(self, step: Step, env: dict[str, T]) -> T | None:
        """When the step runs: not stopped and its guard holds (None = always)."""
        conditions: list[T] = []
        if self.may_stop:
            conditions.append(self.b.unary("not", env[STOP]))
        if step.guard is not None:
            conditions.append(self.expr(step.guard, env))
        if not conditions:
            return None
        out = conditions[0]
        for c in conditions[1:]:
            out = self.b.binary("and", out, c)
        return out

    def case(self, branches: list[tuple[T, T]], otherwise: T) -> T:
        """``Backend.case`` with its computed values as arm columns where the backend wants
        them (see ``Backend.arm_reads``). Every arm is computed on every row, so an arm must
        not fail on rows that do not choose it (no evaluator divides by a variable)."""
        arms = [(cond, self.arm(value)) for cond, value in branches]
        return self.b.case(arms, self.arm(otherwise))

    def arm(self, value: T) -> T:
        reads = self.b.arm_reads(value)
        if reads is None:
            return value
        level = 1 + max((k for k, arms in enumerate(self.arms) if reads & arms.keys()), default=-1)
        if level == len(self.arms):
            self.arms.append({})
        name = f"_lw_arm_{sum(len(arms) for arms in self.arms)}"
        self.arms[level][name] = value
        return self.b.col(name)

    def emit(self, env: dict[str, T], changed: dict[str, T]) -> dict[str, T]:
        """Materialise the changed variables as one stage, after the arm columns they read;
        return the updated environment. (Arms are only made while building the values of
        the next stage, so arm names can be reused from stage to stage.)"""
        for arms in self.arms:
            self.stages.append(Stage([(name, name, value) for name, value in arms.items()]))
        self.arms = []
        stage: Stage[T] = Stage()
        out = dict(env)
        for var, value in changed.items():
            version = self.versions[var] = self.versions.get(var, 0) + 1
            name = self.b.column_name(var, version)
            stage.columns.append((var, name, value))
            out[var] = self.b.col(name)
        if stage.columns:
            self.stages.append(stage)
        return out

    def guarded(self, active: T | None, new: T, old: T) -> T:
        return new if active is None else self.case([(active, new)], old)

    def step(self, step: Step, env: dict[str, T]) -> dict[str, T]:
        active = self.active(step, env)
        if isinstance(step, ExpressionStep):
            work = dict(env)
            for var, e in step.assigns:
                work[var] = self.guarded(active, self.assigned(var, e, work), env[var])
            return self.emit(env, {var: work[var] for var, _ in step.assigns})
        if isinstance(step, ScorecardStep):
            score = Var(step.score, self.policy.features[step.score].type)
            value = self.assigned(step.assign, score, env)
            return self.emit(env, {step.assign: self.guarded(active, value, env[step.assign])})
        if isinstance(step, MatrixStep):
            return self.emit(
                env, {step.assign: self.guarded(active, self.matrix(step, env), env[step.assign])}
            )
        if isinstance(step, RulesetStep):
            conditions = [(br.condition, br.effect) for br in step.branches]
        else:
            conditions = [(step.row_condition(i), row.effect) for i, row in enumerate(step.rows)]
        hit = "collect" if step.hit == "collect" else "first"
        env = self.hits(step.id, hit, conditions, env, active)
        self.may_stop = self.may_stop or any(effect.stop for _, effect in conditions)
        return env

    def assigned(self, var: str, e: Expr, env: dict[str, T]) -> T:
        value = self.expr(e, env)
        if self.policy.variables[var][0] == "float" and e.type == "int":
            return self.b.cast(value, "float")
        return value

    def matrix(self, step: MatrixStep, env: dict[str, T]) -> T:
        b = self.b
        row = self.band(step.row_input, step.row_breaks, env)
        column = self.band(step.column_input, step.column_breaks, env)
        width = b.const(len(step.column_breaks) + 1, "hit")
        index = b.binary("+", b.binary("*", row, width), column)
        return b.lookup(index, step.values, self.policy.variables[step.assign][0])

    def band(self, e: Expr, breaks: tuple[int | float, ...], env: dict[str, T]) -> T:
        """How many breakpoints are <= x (the same count ``bisect_right`` gives): the number
        of the highest one that is, as breakpoints are in order."""
        b = self.b
        x = self.expr(e, env)
        highest_first = [
            (
                b.binary(">=", x, b.const(br, "float" if isinstance(br, float) else "int")),
                b.const(k, "hit"),
            )
            for k, br in reversed(list(enumerate(breaks, 1)))
        ]
        return b.case(highest_first, b.const(0, "hit"))

    def hits(
        self,
        node_id: str,
        hit: str,
        conditions: list[tuple[Expr, Effect]],
        env: dict[str, T],
        active: T | None,
    ) -> dict[str, T]:
        b = self.b
        if active is not None:  # computed once, not once per rule
            env = self.emit(env, {f"_lw_active_{node_id}": active})
            active = env[f"_lw_active_{node_id}"]
        tests = [self.expr(c, env) for c, _ in conditions]
        if active is not None:
            tests = [b.binary("and", active, t) for t in tests]
        if hit == "first":
            branches = [(t, b.const(k + 1, "hit")) for k, t in enumerate(tests)]
            hit_env = self.emit(env, {f"_lw_hit_{node_id}": b.case(branches, b.const(0, "hit"))})
            return self.first_effects(
                hit_env, hit_env[f"_lw_hit_{node_id}"], [e for _, e in conditions]
            )
        flags = self.emit(env, {f"_lw_m_{node_id}_{k}": t for k, t in enumerate(tests)})
        matched = [flags[f"_lw_m_{node_id}_{k}"] for k in range(len(tests))]
        return self.collect_effects(flags, matched, [e for _, e in conditions])

    def effect_values(
        self, effect: Effect, env: dict[str, T], *, settle: bool = True
    ) -> dict[str, T]:
        """The variables one effect sets, computed from ``env`` (sets, then the line). With
        ``settle`` off the line is its unrounded target as a double (see ``settle_line``)."""
        work = dict(env)
        changed: dict[str, T] = {}
        for var, e in effect.sets:
            work[var] = changed[var] = self.assigned(var, e, work)
        if effect.line is not None:
            target = self.line_target(effect.line, work)
            changed[LINE] = self.settle_line(target) if settle else self.b.cast(target, "float")
        return changed

    def first_effects(self, env: dict[str, T], hit: T, effects: list[Effect]) -> dict[str, T]:
        """Apply the matched branch's effect. Action, notice, reasons and stop are constants
        per branch, so they are looked up by the hit number instead of a CASE chain; the
        line targets are chosen first and rounded and clamped once."""
        b = self.b
        matched = [b.binary("==", hit, b.const(k + 1, "hit")) for k in range(len(effects))]
        per_branch = [self.effect_values(e, env, settle=False) for e in effects]
        variables = list(dict.fromkeys(v for values in per_branch for v in values))
        changed: dict[str, T] = {}
        for var in variables:
            branches = [
                (m, values[var])
                for m, values in zip(matched, per_branch, strict=True)
                if var in values
            ]
            if var != LINE:
                changed[var] = self.case(branches, env[var])
            elif len(branches) == 1:
                ((m, target),) = branches
                changed[var] = self.case([(m, self.settle_line(target))], env[var])
            else:
                hits = [k + 1 for k, values in enumerate(per_branch) if var in values]
                target = self.case(branches, b.const(0.0, "float"))
                changed[var] = self.case(
                    [(self.hit_in(hit, hits, len(effects)), self.settle_line(target))], env[var]
                )
        masks = [e.reason_mask or None for e in effects]
        if any(masks):
            changed[MASK] = b.binary("|", env[MASK], self.first_code(hit, masks, "mask", None))
        stops = [k + 1 for k, e in enumerate(effects) if e.stop]
        if stops:
            changed[STOP] = b.binary("or", env[STOP], self.hit_in(hit, stops, len(effects)))
        actions = [SEVERITY[e.action] if e.action is not None else None for e in effects]
        notices = [
            self.policy.notices.index(e.notice) + 1 if e.notice is not None else None
            for e in effects
        ]
        if any(code is not None for code in actions):
            changed[ACTION] = self.first_code(hit, actions, "action", env[ACTION])
        if any(code is not None for code in notices):
            changed[NOTICE] = self.first_code(hit, notices, "notice", env[NOTICE])
        return self.emit(env, changed)

    def hit_in(self, hit: T, hits: list[int], count: int) -> T:
        """Whether the hit number is one of ``hits`` (of 1..``count``)."""
        b = self.b
        if len(hits) == 1:
            return b.binary("==", hit, b.const(hits[0], "hit"))
        if len(hits) == count:
            return b.binary("!=", hit, b.const(0, "hit"))
        return b.is_in(hit, tuple(hits), False)

    def first_code(self, hit: T, codes: list[int | None], kind: Code, old: T | None) -> T:
        """The code of the matched branch, or ``old`` (None: 0) where it sets none or nothing
        hit: a choice between constants when there are at most two, else a lookup."""
        b = self.b
        count, values = len(codes), sorted({code for code in codes if code is not None})
        if len(values) <= 2:
            branches = [
                (self.hit_in(hit, [k + 1 for k, c in enumerate(codes) if c == v], count), v)
                for v in values
            ]
            fallback = b.const(0, kind) if old is None else old
            return b.case([(m, b.const(v, kind)) for m, v in branches], fallback)
        value = b.lookup(hit, (0, *(code or 0 for code in codes)), kind)
        if old is None:
            return value
        setting = [k + 1 for k, code in enumerate(codes) if code is not None]
        return b.case([(self.hit_in(hit, setting, count), value)], old)

    def collect_effects(
        self, env: dict[str, T], matched: list[T], effects: list[Effect]
    ) -> dict[str, T]:
        """Matched rows apply in order. Only rows that set variables or move the line need a
        stage each (a later row may read what an earlier one wrote; one stage per row keeps
        expressions linear in size). Reasons, notice, stop and action read nothing a row
        writes, so they are settled together in one last stage: reasons OR-ed, the last
        matched notice, stop if any row stops, and the most severe matched action."""
        b = self.b
        before = env[ACTION]
        for m, effect in zip(matched, effects, strict=True):
            values = self.effect_values(effect, env)
            if values:
                env = self.emit(
                    env, {var: self.case([(m, value)], env[var]) for var, value in values.items()}
                )
        rows = list(zip(matched, effects, strict=True))
        changed: dict[str, T] = {}
        mask = env[MASK]
        for m, effect in rows:
            if effect.reason_mask:
                bits = b.case([(m, b.const(effect.reason_mask, "mask"))], b.const(0, "mask"))
                mask = b.binary("|", mask, bits)
        if any(e.reason_mask for _, e in rows):
            changed[MASK] = mask
        notices = [
            (m, b.const(self.policy.notices.index(e.notice) + 1, "notice"))
            for m, e in reversed(rows)
            if e.notice is not None
        ]
        if notices:
            changed[NOTICE] = b.case(notices, env[NOTICE])
        stops = [m for m, e in rows if e.stop]
        if stops:
            changed[STOP] = b.binary("or", env[STOP], self.any_of(stops))
        ranked = [
            b.case([(m, b.const(SEVERITY[e.action], "action"))], b.const(-1, "action"))
            for m, e in rows
            if e.action is not None
        ]
        if ranked:
            worst = self.arm(ranked[0] if len(ranked) == 1 else b.extreme("max", ranked))
            found = b.binary(">=", worst, b.const(0, "action"))
            changed[ACTION] = b.case([(found, worst)], before)
        return self.emit(env, changed)

    def any_of(self, conditions: list[T]) -> T:
        out = conditions[0]
        for c in conditions[1:]:
            out = self.b.binary("or", out, c)
        return out

    def line_target(self, change: LineChange, env: dict[str, T]) -> T:
        """The new line before rounding and clamping (an int or a double)."""
        b = self.b
        value, line = self.expr(change.expr, env), env[LINE]
        if change.kind == "to":
            return value
        if change.kind == "by_fen":
            return b.binary("+", line, value)
        scaled = b.binary("*", line, b.binary("+", b.const(100, "int"), value))
        return b.binary("/", scaled, b.const(100, "int"))

    def settle_line(self, target: T) -> T:
        """Round to the line step and clamp to the product range. Rounding divides in
        doubles, so an integer target may be cast to double first without any change."""
        p = self.policy
        return self.b.settle(target, p.line_step_fen, p.line_min_fen, p.line_max_fen)
