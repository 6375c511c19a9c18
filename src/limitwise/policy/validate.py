"""Load a YAML bundle and validate it into a :class:`Policy`, reporting every problem with
its file, line, node and what is wrong (unknown names, type errors, unreachable rules,
overlapping ``unique`` rows, missing reason texts)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from limitwise.kit.errors import LimitwiseError
from limitwise.kit.files import read_text
from limitwise.policy import cells as cellmod
from limitwise.policy.compiled import (
    Branch,
    Effect,
    ExpressionStep,
    LineChange,
    LineKind,
    MatrixStep,
    Policy,
    Row,
    RulesetStep,
    ScorecardStep,
    Step,
    TableStep,
)
from limitwise.policy.expr import (
    Const,
    Expr,
    ExprError,
    Scalar,
    Type,
    Var,
    VarInfo,
    names_in,
    parse,
)
from limitwise.policy.schemas import (
    Action,
    Bundle,
    ExpressionNode,
    MatrixNode,
    Outcome,
    RulesetNode,
    ScorecardNode,
    TableNode,
)

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_REASONS_PER_DECISION = 4
LINE_KINDS: dict[str, LineKind] = {"to": "to", "by_fen": "by_fen", "by_pct": "by_pct"}
MAX_REASON_CODES = 62
BUILTINS = ("line_fen", "action")
Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class PolicyProblem:
    source: str
    line: int | None
    node: str | None
    where: str
    message: str

    def __str__(self) -> str:
        at = f"{self.source}:{self.line}" if self.line else self.source
        node = f" node '{self.node}'" if self.node else ""
        return f"{at}:{node} {self.where}: {self.message}"


class PolicyInvalid(LimitwiseError):
    code = "policy_invalid"
    http_status = 422

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems), code="policy_invalid")

    def __str__(self) -> str:
        return f"policy is invalid ({len(self.problems)} problem(s)):\n{self.message}"


def load_file(path: str | Path) -> Policy:
    return load_text(read_text(path), source=str(path))


def load_text(text: str, *, source: str = "<policy>") -> Policy:
    """Parse, structurally check and semantically validate a policy bundle."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)
        lines = _line_map(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PolicyInvalid([PolicyProblem(source, line, None, "yaml", str(exc))]) from None
    if not isinstance(data, dict):
        raise PolicyInvalid([PolicyProblem(source, 1, None, "bundle", "must be a YAML mapping")])
    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as exc:
        problems = [_pydantic_problem(source, lines, data, err) for err in exc.errors()]
        raise PolicyInvalid(problems) from None
    return _Validator(bundle, source, lines).build()


def content_hash(bundle: Bundle) -> str:
    """sha256 of the bundle's canonical JSON: comments and formatting do not change it."""
    canonical = json.dumps(
        bundle.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _line_map(node: yaml.Node | None, path: Path_ = ()) -> dict[Path_, int]:
    lines: dict[Path_, int] = {}
    if node is None:
        return lines
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            lines.update(_line_map(value_node, (*path, str(key_node.value))))
            lines[(*path, str(key_node.value))] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_line_map(item, (*path, i)))
    return lines


def _line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _where(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "bundle"


def _node_id(data: Any, path: Path_) -> str | None:
    if len(path) >= 2 and path[0] == "nodes" and isinstance(path[1], int):
        nodes = data.get("nodes") if isinstance(data, dict) else None
        if isinstance(nodes, list) and path[1] < len(nodes) and isinstance(nodes[path[1]], dict):
            return str(nodes[path[1]].get("id", path[1]))
    return None


def _pydantic_problem(source: str, lines: dict[Path_, int], data: Any, err: Any) -> PolicyProblem:
    # Discriminated unions put the tag ("ruleset") into the location; drop non-YAML parts.
    path = tuple(p for p in err["loc"] if isinstance(p, int) or not str(p).endswith("Node"))
    path = tuple(
        p for p in path if p not in ("expression", "ruleset", "table", "matrix", "scorecard")
    )
    return PolicyProblem(
        source, _line_of(lines, path), _node_id(data, path), _where(path), err["msg"]
    )


@dataclass
class _Validator:
    bundle: Bundle
    source: str
    lines: dict[Path_, int]
    problems: list[PolicyProblem] = field(default_factory=list)
    scope: dict[str, VarInfo] = field(default_factory=dict)
    node: str | None = None

    def problem(self, path: Path_, message: str) -> None:
        self.problems.append(
            PolicyProblem(self.source, _line_of(self.lines, path), self.node, _where(path), message)
        )

    def build(self) -> Policy:
        b = self.bundle
        features = {name: _var_info(spec.type, spec.values) for name, spec in b.features.items()}
        self.scope.update(features)
        variables = self.check_variables()
        self.scope["line_fen"] = VarInfo("int")
        self.scope["action"] = VarInfo("str", tuple(a.value for a in Action))
        self.check_line_spec()
        reason_codes = self.check_reasons()
        steps: list[Step] = []
        for i, node in enumerate(b.nodes):
            self.node = node.id
            step = self.check_node(node, ("nodes", i))
            if step is not None:
                steps.append(step)
        self.node = None
        self.check_node_ids()
        self.check_sub_lines()
        if self.problems:
            raise PolicyInvalid(self.problems)
        notices = sorted({e.notice for e in _effects(steps) if e.notice is not None})
        return Policy(
            key=b.key,
            version=b.version,
            content_hash=content_hash(b),
            bundle=b,
            features=features,
            variables=variables,
            reason_codes=reason_codes,
            reason_texts=dict(b.reasons),
            notices=tuple(notices),
            default_action=b.default_action.value,
            current_line=b.line.current,
            line_step_fen=b.line.step_fen,
            line_min_fen=b.line.min_fen,
            line_max_fen=b.line.max_fen,
            steps=tuple(steps),
            sub_lines=dict(b.outputs.sub_lines),
        )

    # -- declarations -------------------------------------------------------------------

    def check_variables(self) -> dict[str, tuple[Type, Scalar]]:
        variables: dict[str, tuple[Type, Scalar]] = {}
        for name, spec in self.bundle.features.items():
            if spec.type == "enum" and not spec.values:
                self.problem(("features", name), "an enum feature needs its list of values")
            if spec.type == "money" and not name.endswith("_fen"):
                self.problem(("features", name), "a money feature's name must end in _fen")
        for name, var in self.bundle.variables.items():
            path: Path_ = ("variables", name)
            if name in self.bundle.features or name in BUILTINS or name.startswith("_"):
                self.problem(path, f"'{name}' is a feature or a reserved name")
                continue
            info = _var_info(var.type, var.values)
            if not _literal_fits(var.default, info):
                self.problem((*path, "default"), f"default {var.default!r} is not a {var.type}")
                continue
            self.scope[name] = info
            variables[name] = (info.type, var.default)
        return variables

    def check_line_spec(self) -> None:
        spec = self.bundle.line
        feature = self.bundle.features.get(spec.current)
        if feature is None or feature.type != "money":
            self.problem(("line", "current"), f"'{spec.current}' must be a money feature")
        if spec.min_fen > spec.max_fen:
            self.problem(("line", "min_fen"), "min_fen is above max_fen")

    def check_reasons(self) -> tuple[str, ...]:
        codes = tuple(self.bundle.reasons)
        if len(codes) > MAX_REASON_CODES:
            self.problem(("reasons",), f"at most {MAX_REASON_CODES} reason codes")
        for code, text in self.bundle.reasons.items():
            for lang in ("en", "zh"):
                if not getattr(text, lang).strip():
                    self.problem(("reasons", code), f"reason {code} has no {lang} text")
        return codes

    def check_node_ids(self) -> None:
        seen: set[str] = set()
        for i, node in enumerate(self.bundle.nodes):
            if node.id in seen:
                self.problem(("nodes", i, "id"), f"node id '{node.id}' is used twice")
            seen.add(node.id)

    def check_sub_lines(self) -> None:
        for name, var in self.bundle.outputs.sub_lines.items():
            if self.scope.get(var, VarInfo("str")).type != "int" or var in self.bundle.features:
                self.problem(("outputs", "sub_lines", name), f"'{var}' must be a money variable")

    # -- expressions --------------------------------------------------------------------

    def expr(self, text: str | bool, path: Path_, want: Type | None = None) -> Expr | None:
        try:
            parsed = Const(text, "bool") if isinstance(text, bool) else parse(text, self.scope)
        except ExprError as exc:
            col = f" (column {exc.column})" if exc.column and exc.column > 0 else ""
            self.problem(path, f"{exc.message}{col} in '{text}'")
            return None
        if want == "bool" and parsed.type != "bool":
            self.problem(path, f"must be a condition (true/false), got {parsed.type}: '{text}'")
            return None
        if want in ("int", "float") and parsed.type not in ("int", "float"):
            self.problem(path, f"must be a number, got {parsed.type}: '{text}'")
            return None
        return parsed

    def assignable(self, var: str, value: Expr, path: Path_) -> bool:
        info = self.bundle.variables.get(var)
        if info is None:
            self.problem(path, f"'{var}' is not a declared variable (declare it under variables:)")
            return False
        target = self.scope[var]
        ok = value.type == target.type or (target.type == "float" and value.type == "int")
        if ok and target.values is not None:
            if isinstance(value, Const):
                ok = value.value in target.values
            else:
                source = self.scope.get(next(iter(names_in(value)), ""), VarInfo("str"))
                ok = source.values is not None and set(source.values) <= set(target.values)
        if not ok:
            self.problem(path, f"cannot assign a {value.type} value to {var} ({target.type})")
        return ok

    # -- nodes --------------------------------------------------------------------------

    def check_node(self, node: Any, path: Path_) -> Step | None:
        guard = self.expr(node.when, (*path, "when"), "bool") if node.when is not None else None
        count = len(self.problems)
        step: Step | None
        if isinstance(node, ExpressionNode):
            step = self.expression_node(node, path, guard)
        elif isinstance(node, RulesetNode):
            step = self.ruleset_node(node, path, guard)
        elif isinstance(node, TableNode):
            step = self.table_node(node, path, guard)
        elif isinstance(node, MatrixNode):
            step = self.matrix_node(node, path, guard)
        else:
            step = self.scorecard_node(node, path, guard)
        return step if len(self.problems) == count else None

    def expression_node(self, node: ExpressionNode, path: Path_, guard: Expr | None) -> Step:
        assigns: list[tuple[str, Expr]] = []
        for var, text in node.assign.items():
            value = self.expr(text, (*path, "assign", var))
            if value is not None and self.assignable(var, value, (*path, "assign", var)):
                assigns.append((var, value))
        reads = _reads(guard, *(e for _, e in assigns))
        return ExpressionStep(node.id, guard, reads, tuple(assigns))

    def effect(self, outcome: Outcome, path: Path_) -> tuple[Effect, list[Expr]]:
        mask = 0
        codes = tuple(self.bundle.reasons)
        if len(outcome.reasons) > MAX_REASONS_PER_DECISION:
            self.problem((*path, "reasons"), f"at most {MAX_REASONS_PER_DECISION} reasons")
        for code in outcome.reasons:
            if code not in self.bundle.reasons:
                self.problem(
                    (*path, "reasons"), f"unknown reason code {code} (add it under reasons:)"
                )
            else:
                mask |= 1 << codes.index(code)
        sets: list[tuple[str, Expr]] = []
        for var, text in outcome.set.items():
            value = self.expr(text, (*path, "set", var))
            if value is not None and self.assignable(var, value, (*path, "set", var)):
                sets.append((var, value))
        line = None
        if outcome.line is not None:
            given = [(k, v) for k, v in outcome.line.model_dump().items() if v is not None]
            if len(given) != 1:
                self.problem((*path, "line"), "give exactly one of to, by_fen, by_pct")
            else:
                kind, text = given[0]
                value = self.expr(text, (*path, "line", kind), "int")
                if value is not None:
                    line = LineChange(LINE_KINDS[kind], value)
        action = outcome.action.value if outcome.action is not None else None
        effect = Effect(action, mask, outcome.notice, line, tuple(sets), outcome.stop)
        exprs = [e for _, e in sets] + ([line.expr] if line else [])
        return effect, exprs

    def ruleset_node(self, node: RulesetNode, path: Path_, guard: Expr | None) -> Step:
        branches: list[Branch] = []
        exprs: list[Expr] = []
        always_from: str | None = None
        for i, rule in enumerate(node.rules):
            rule_path: Path_ = (*path, "rules", i)
            condition = self.expr(rule.when, (*rule_path, "when"), "bool")
            effect, used = self.effect(rule.then, (*rule_path, "then"))
            if condition is None:
                continue
            if always_from is not None and node.hit == "first":
                self.problem(
                    rule_path,
                    f"rule '{rule.id}' is unreachable: rule '{always_from}' "
                    "always matches before it",
                )
            if condition == Const(False, "bool"):
                self.problem(rule_path, f"rule '{rule.id}' is unreachable: its condition is false")
            if node.hit == "first" and any(b.condition == condition for b in branches):
                self.problem(
                    rule_path,
                    f"rule '{rule.id}' is unreachable: an earlier rule has the same condition",
                )
            if condition == Const(True, "bool") and always_from is None:
                always_from = rule.id
            branches.append(Branch(rule.id, condition, effect))
            exprs += [condition, *used]
        return RulesetStep(node.id, guard, _reads(guard, *exprs), node.hit, tuple(branches))

    def table_node(self, node: TableNode, path: Path_, guard: Expr | None) -> Step | None:
        inputs = [self.expr(text, (*path, "inputs", i)) for i, text in enumerate(node.inputs)]
        if any(e is None for e in inputs):
            return None
        typed_inputs = [e for e in inputs if e is not None]
        rows: list[Row] = []
        exprs: list[Expr] = list(typed_inputs)
        for i, raw in enumerate(node.rows):
            row_path: Path_ = (*path, "rows", i)
            effect, used = self.effect(raw.then, (*row_path, "then"))
            exprs += used
            if len(raw.when) != len(typed_inputs):
                self.problem(
                    (*row_path, "when"),
                    f"row '{raw.id}' has {len(raw.when)} cells for {len(typed_inputs)} inputs",
                )
                continue
            parsed = self.cells(raw.when, typed_inputs, node.inputs, (*row_path, "when"))
            if parsed is not None:
                self.check_row(node, rows, Row(raw.id, parsed, effect), row_path, typed_inputs)
                rows.append(Row(raw.id, parsed, effect))
        step = TableStep(
            node.id, guard, _reads(guard, *exprs), node.hit, tuple(typed_inputs), tuple(rows)
        )
        return step

    def cells(
        self, raw: list[Any], inputs: list[Expr], texts: list[str], path: Path_
    ) -> tuple[cellmod.Cell, ...] | None:
        parsed: list[cellmod.Cell] = []
        for j, (value, arg) in enumerate(zip(raw, inputs, strict=True)):
            values = self.scope[arg.name].values if isinstance(arg, Var) else None
            try:
                parsed.append(cellmod.parse_cell(value, arg.type, values))
            except cellmod.CellError as exc:
                self.problem((*path, j), f"cell for '{texts[j]}': {exc}")
        return tuple(parsed) if len(parsed) == len(raw) else None

    def check_row(
        self, node: TableNode, earlier: list[Row], row: Row, path: Path_, inputs: list[Expr]
    ) -> None:
        if any(cellmod.is_empty(c) for c in row.cells):
            self.problem(path, f"row '{row.id}' is unreachable: a cell matches nothing")
            return
        if node.hit == "first" and not self.shadowed_by_one(earlier, row, path):
            self.check_covered_by_several(earlier, row, path, inputs)
        if node.hit != "unique":
            return
        for other in earlier:
            if cellmod.boxes_intersect(other.cells, row.cells):
                self.problem(
                    path,
                    f"rows '{other.id}' and '{row.id}' overlap, which the unique "
                    "hit policy forbids",
                )

    def shadowed_by_one(self, earlier: list[Row], row: Row, path: Path_) -> bool:
        for other in earlier:
            if all(cellmod.covers(a, b) for a, b in zip(other.cells, row.cells, strict=True)):
                self.problem(
                    path,
                    f"row '{row.id}' is unreachable: row '{other.id}' matches everything it does",
                )
                return True
        return False

    def check_covered_by_several(
        self, earlier: list[Row], row: Row, path: Path_, inputs: list[Expr]
    ) -> None:
        """A ``first`` row that earlier rows cover only together is unreachable too."""
        domains = [
            cellmod.domain(arg.type, self.scope[arg.name].values if isinstance(arg, Var) else None)
            for arg in inputs
        ]
        known = [d for d in domains if d is not None]
        if len(known) < len(domains):
            return
        integer = tuple(arg.type == "int" for arg in inputs)
        touching = [other for other in earlier if cellmod.boxes_intersect(other.cells, row.cells)]
        boxes = [other.cells for other in touching]
        if cellmod.covered_by_union(row.cells, boxes, tuple(known), integer):
            self.problem(
                path,
                f"row '{row.id}' is unreachable: rows "
                f"{', '.join(repr(o.id) for o in touching)} together match everything it does",
            )

    def matrix_node(self, node: MatrixNode, path: Path_, guard: Expr | None) -> Step | None:
        row_input = self.expr(node.rows.input, (*path, "rows", "input"), "int")
        column_input = self.expr(node.columns.input, (*path, "columns", "input"), "int")
        for axis_name, axis in (("rows", node.rows), ("columns", node.columns)):
            if any(a >= b for a, b in zip(axis.breaks, axis.breaks[1:], strict=False)):
                self.problem((*path, axis_name, "breaks"), "breaks must be strictly ascending")
        shape = (len(node.rows.breaks) + 1, len(node.columns.breaks) + 1)
        if len(node.values) != shape[0] or any(len(r) != shape[1] for r in node.values):
            self.problem(
                (*path, "values"),
                f"values must be {shape[0]} rows x {shape[1]} columns "
                "(one more than the breaks on each axis)",
            )
            return None
        target = self.scope.get(node.assign)
        if node.assign not in self.bundle.variables or target is None:
            self.problem((*path, "assign"), f"'{node.assign}' is not a declared variable")
            return None
        values = self.matrix_values(node, target.type, path)
        if row_input is None or column_input is None or values is None:
            return None
        return MatrixStep(
            node.id,
            guard,
            _reads(guard, row_input, column_input),
            row_input,
            tuple(node.rows.breaks),
            column_input,
            tuple(node.columns.breaks),
            tuple(values),
            node.assign,
        )

    def matrix_values(
        self, node: MatrixNode, target: Type, path: Path_
    ) -> list[int | float] | None:
        out: list[int | float] = []
        for r, row in enumerate(node.values):
            for c, raw in enumerate(row):
                try:
                    number = Decimal(str(raw))
                except InvalidOperation:
                    self.problem((*path, "values", r, c), f"{raw!r} is not a number")
                    return None
                if node.unit == "yuan":
                    number *= 100
                if target == "int":
                    if number != number.to_integral_value():
                        self.problem(
                            (*path, "values", r, c),
                            f"{raw} is not a whole number of "
                            f"{'fen' if node.unit == 'yuan' else 'units'}",
                        )
                        return None
                    out.append(int(number))
                elif target == "float":
                    out.append(float(number))
                else:
                    self.problem((*path, "assign"), f"a matrix assigns numbers, not {target}")
                    return None
        return out

    def scorecard_node(self, node: ScorecardNode, path: Path_, guard: Expr | None) -> Step | None:
        feature = self.bundle.features.get(node.score)
        if feature is None or feature.type not in ("int", "float"):
            self.problem((*path, "score"), f"'{node.score}' must be a numeric feature")
            return None
        if not self.assignable(node.assign, parse(node.score, self.scope), (*path, "assign")):
            return None
        return ScorecardStep(
            node.id,
            guard,
            (*_reads(guard), node.score),
            node.scorecard.key,
            str(node.scorecard.version),
            node.score,
            node.assign,
        )


def _var_info(kind: str, values: list[str] | None) -> VarInfo:
    mapping: dict[str, Type] = {
        "int": "int",
        "money": "int",
        "float": "float",
        "bool": "bool",
        "enum": "str",
    }
    return VarInfo(mapping[kind], tuple(values) if values else None)


def _literal_fits(value: Scalar, info: VarInfo) -> bool:
    if info.type == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if info.type == "int":
        return isinstance(value, int)
    if info.type == "float":
        return isinstance(value, (int, float))
    return isinstance(value, str) and (info.values is None or value in info.values)


def _reads(*exprs: Expr | None) -> tuple[str, ...]:
    names: set[str] = set()
    for e in exprs:
        if e is not None:
            names |= names_in(e)
    return tuple(sorted(names))


def _effects(steps: list[Step]) -> list[Effect]:
    found: list[Effect] = []
    for step in steps:
        if isinstance(step, RulesetStep):
            found += [b.effect for b in step.branches]
        elif isinstance(step, TableStep):
            found += [r.effect for r in step.rows]
    return found
