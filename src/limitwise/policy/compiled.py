"""A validated, typed policy (the compiled form every evaluator reads). Built by ``validate``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from limitwise.policy.cells import Cell, cell_condition
from limitwise.policy.expr import BoolOp, Const, Expr, Scalar, Type, VarInfo
from limitwise.policy.schemas import Bundle, ReasonText

LineKind = Literal["to", "by_fen", "by_pct"]


@dataclass(frozen=True, slots=True)
class LineChange:
    kind: LineKind
    expr: Expr


@dataclass(frozen=True, slots=True)
class Effect:
    """What a matched rule or row does, applied in this order: ``sets``, ``line``, then
    action, reasons (OR-ed into the reason set), notice and stop."""

    action: str | None
    reason_mask: int
    notice: str | None
    line: LineChange | None
    sets: tuple[tuple[str, Expr], ...]
    stop: bool


@dataclass(frozen=True, slots=True)
class Branch:
    id: str
    condition: Expr
    effect: Effect


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    cells: tuple[Cell, ...]
    effect: Effect


@dataclass(frozen=True, slots=True)
class ExpressionStep:
    id: str
    guard: Expr | None
    reads: tuple[str, ...]
    assigns: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True, slots=True)
class RulesetStep:
    id: str
    guard: Expr | None
    reads: tuple[str, ...]
    hit: Literal["first", "collect"]
    branches: tuple[Branch, ...]


@dataclass(frozen=True, slots=True)
class TableStep:
    id: str
    guard: Expr | None
    reads: tuple[str, ...]
    hit: Literal["first", "collect", "unique"]
    inputs: tuple[Expr, ...]
    rows: tuple[Row, ...]

    def row_condition(self, index: int) -> Expr:
        """Row ``index`` as one boolean expression over the table's inputs (cells that
        accept anything drop out), the form every evaluator compiles."""
        row = self.rows[index]
        parts = [
            part
            for cell, arg in zip(row.cells, self.inputs, strict=True)
            if (part := cell_condition(cell, arg)) != TRUE
        ]
        if not parts:
            return TRUE
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))


TRUE = Const(True, "bool")


@dataclass(frozen=True, slots=True)
class MatrixStep:
    id: str
    guard: Expr | None
    reads: tuple[str, ...]
    row_input: Expr
    row_breaks: tuple[int | float, ...]
    column_input: Expr
    column_breaks: tuple[int | float, ...]
    values: tuple[int | float, ...]
    """Row-major: the cell of row band r and column band c is ``values[r * columns + c]``."""
    assign: str


@dataclass(frozen=True, slots=True)
class ScorecardStep:
    id: str
    guard: Expr | None
    reads: tuple[str, ...]
    scorecard_key: str
    scorecard_version: str
    score: str
    assign: str


Step = ExpressionStep | RulesetStep | TableStep | MatrixStep | ScorecardStep


@dataclass(frozen=True)
class Policy:
    key: str
    version: str
    content_hash: str
    bundle: Bundle
    features: dict[str, VarInfo]
    variables: dict[str, tuple[Type, Scalar]]
    """Declared working variables with their type and starting value."""
    reason_codes: tuple[str, ...]
    """The reason catalogue in priority order; bit i of a reason set is ``reason_codes[i]``."""
    reason_texts: dict[str, ReasonText]
    notices: tuple[str, ...]
    default_action: str
    current_line: str
    line_step_fen: int
    line_min_fen: int
    line_max_fen: int
    steps: tuple[Step, ...]
    sub_lines: dict[str, str] = field(default_factory=dict)

    def reasons_of(self, mask: int, limit: int = 4) -> list[str]:
        """The ``limit`` highest-priority reason codes in a reason set."""
        return [code for i, code in enumerate(self.reason_codes) if mask >> i & 1][:limit]
