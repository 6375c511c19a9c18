"""Decision-table cells (unary tests) as sets, so overlaps and coverage can be proved.

Syntax: ``-`` (any), ``> 30``, ``>= 30``, ``< 5``, ``<= 5``, ``== 3`` or a bare number,
ranges ``[1..5]`` ``(1..5]`` ``[1..5)``, comma lists of enum values ``new, existing``, and
YAML booleans. On integer inputs open bounds are closed (``> 30`` is ``>= 31``), so two rows
overlap exactly when some integer satisfies both.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from limitwise.policy.expr import BoolOp, Cmp, Const, Expr, In, Scalar, Type

NEG_INF, POS_INF = -math.inf, math.inf


@dataclass(frozen=True, slots=True)
class AnyCell:
    pass


@dataclass(frozen=True, slots=True)
class Interval:
    lo: float
    lo_closed: bool
    hi: float
    hi_closed: bool

    def is_empty(self) -> bool:
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_closed and self.hi_closed))


@dataclass(frozen=True, slots=True)
class Members:
    values: frozenset[Scalar]


Cell = AnyCell | Interval | Members

RANGE = re.compile(r"^([\[(])\s*(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)\s*([\])])$")
COMPARE = re.compile(r"^(>=|<=|>|<|==)?\s*(-?[\d.]+)$")


class CellError(ValueError):
    pass


def parse_cell(
    raw: str | int | float | bool, input_type: Type, values: tuple[str, ...] | None
) -> Cell:
    """Parse one cell written for an input of ``input_type``."""
    if isinstance(raw, bool):
        if input_type != "bool":
            raise CellError(f"{raw} is a boolean but the input is {input_type}")
        return Members(frozenset({raw}))
    text = str(raw).strip()
    if text in ("-", "", "any"):
        return AnyCell()
    if input_type in ("int", "float"):
        return _numeric_cell(text, input_type)
    if input_type == "bool":
        if text.lower() not in ("true", "false"):
            raise CellError(f"'{text}' is not true/false")
        return Members(frozenset({text.lower() == "true"}))
    items = [item.strip().strip("'\"") for item in text.split(",")]
    unknown = [item for item in items if values is not None and item not in values]
    if unknown:
        raise CellError(
            f"{', '.join(unknown)} not among the input's values ({', '.join(values or ())})"
        )
    return Members(frozenset(items))


def _number(text: str, input_type: Type) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CellError(f"'{text}' is not a number") from None
    if input_type == "int" and value != int(value):
        raise CellError(f"{text} is not an integer but the input is int")
    return value


def _numeric_cell(text: str, input_type: Type) -> Cell:
    if match := RANGE.match(text):
        opening, lo, hi, closing = match.groups()
        cell = Interval(
            _number(lo, input_type), opening == "[", _number(hi, input_type), closing == "]"
        )
    elif match := COMPARE.match(text):
        op, number = match.group(1) or "==", _number(match.group(2), input_type)
        cell = {
            ">": Interval(number, False, POS_INF, False),
            ">=": Interval(number, True, POS_INF, False),
            "<": Interval(NEG_INF, False, number, False),
            "<=": Interval(NEG_INF, False, number, True),
            "==": Interval(number, True, number, True),
        }[op]
    else:
        raise CellError(f"'{text}' is not a cell: use -, > n, >= n, < n, <= n, n or [a..b]")
    return close_integer_bounds(cell) if input_type == "int" else cell


def close_integer_bounds(cell: Interval) -> Interval:
    lo, hi = cell.lo, cell.hi
    if math.isfinite(lo) and not cell.lo_closed:
        lo += 1
    if math.isfinite(hi) and not cell.hi_closed:
        hi -= 1
    return Interval(lo, math.isfinite(lo), hi, math.isfinite(hi))


def intersects(a: Cell, b: Cell) -> bool:
    if isinstance(a, AnyCell) or isinstance(b, AnyCell):
        return not (is_empty(a) or is_empty(b))
    if isinstance(a, Members) and isinstance(b, Members):
        return bool(a.values & b.values)
    if isinstance(a, Interval) and isinstance(b, Interval):
        return not _meet(a, b).is_empty()
    return False


def covers(outer: Cell, inner: Cell) -> bool:
    """Whether every value ``inner`` accepts is accepted by ``outer``."""
    if isinstance(outer, AnyCell) or is_empty(inner):
        return True
    if isinstance(outer, Members) and isinstance(inner, Members):
        return inner.values <= outer.values
    if isinstance(outer, Interval) and isinstance(inner, Interval):
        return _meet(outer, inner) == inner
    return False


def is_empty(cell: Cell) -> bool:
    return isinstance(cell, Interval) and cell.is_empty()


def _meet(a: Interval, b: Interval) -> Interval:
    if a.lo > b.lo or (a.lo == b.lo and not a.lo_closed):
        lo, lo_closed = a.lo, a.lo_closed
    else:
        lo, lo_closed = b.lo, b.lo_closed
    if a.hi < b.hi or (a.hi == b.hi and not a.hi_closed):
        hi, hi_closed = a.hi, a.hi_closed
    else:
        hi, hi_closed = b.hi, b.hi_closed
    return Interval(lo, lo_closed, hi, hi_closed)


def cell_condition(cell: Cell, arg: Expr) -> Expr:
    """The cell as a boolean expression over its input, for the batch compilers."""
    if isinstance(cell, AnyCell):
        return Const(True, "bool")
    if isinstance(cell, Members):
        return In(arg, tuple(sorted(cell.values, key=str)), False)
    parts: list[Expr] = []
    number_type: Type = "int" if arg.type == "int" else "float"
    if math.isfinite(cell.lo):
        bound = Const(int(cell.lo) if number_type == "int" else cell.lo, number_type)
        parts.append(Cmp(">=" if cell.lo_closed else ">", arg, bound))
    if math.isfinite(cell.hi):
        bound = Const(int(cell.hi) if number_type == "int" else cell.hi, number_type)
        parts.append(Cmp("<=" if cell.hi_closed else "<", arg, bound))
    if not parts:
        return Const(True, "bool")
    return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))


Box = tuple[Cell, ...]
#: Past this many pieces the coverage proof gives up (it is exponential in the worst case).
PIECES_MAX = 10_000


def domain(input_type: Type, values: tuple[str, ...] | None) -> Cell | None:
    """Every value an input can take, as a cell (None: not a set the validator knows)."""
    if input_type in ("int", "float"):
        return Interval(NEG_INF, False, POS_INF, False)
    if input_type == "bool":
        return Members(frozenset({True, False}))
    return Members(frozenset(values)) if values else None


def covered_by_union(
    row: Box, earlier: list[Box], domains: tuple[Cell, ...], integer: tuple[bool, ...]
) -> bool | None:
    """Whether every input a row accepts is accepted by some earlier row: subtract the
    earlier rows' boxes from the row's box one by one and see whether anything is left.
    ``integer[i]``: the i-th input is an integer, so bounds are closed onto integers.
    None when the proof would need more than ``PIECES_MAX`` pieces."""
    left = [] if any(is_empty(c) for c in row) else [_concrete(row, domains)]
    for other in earlier:
        if not left:
            break
        box = _concrete(other, domains)
        left = [piece for part in left for piece in _subtract(part, box, integer)]
        if len(left) > PIECES_MAX:
            return None
    return not left


def boxes_intersect(a: Box, b: Box) -> bool:
    """Whether some input is accepted by both rows (cell by cell)."""
    return all(intersects(x, y) for x, y in zip(a, b, strict=True))


def _concrete(box: Box, domains: tuple[Cell, ...]) -> Box:
    return tuple(d if isinstance(c, AnyCell) else c for c, d in zip(box, domains, strict=True))


def _subtract(box: Box, other: Box, integer: tuple[bool, ...]) -> list[Box]:
    """``box`` minus ``other`` as disjoint boxes: peel off, dimension by dimension, the part
    of ``box`` outside ``other``; what is left at the end lies inside ``other``."""
    if not boxes_intersect(box, other):
        return [box]
    pieces: list[Box] = []
    current = list(box)
    for i, (mine, theirs) in enumerate(zip(box, other, strict=True)):
        for part in _cell_minus(mine, theirs, integer[i]):
            pieces.append((*current[:i], part, *current[i + 1 :]))
        current[i] = _cell_meet(mine, theirs)
    return pieces


def _cell_minus(a: Cell, b: Cell, integer: bool) -> list[Cell]:
    if isinstance(a, Members) and isinstance(b, Members):
        rest = a.values - b.values
        return [Members(rest)] if rest else []
    assert isinstance(a, Interval) and isinstance(b, Interval)
    parts = [
        Interval(a.lo, a.lo_closed, b.lo, not b.lo_closed),
        Interval(b.hi, not b.hi_closed, a.hi, a.hi_closed),
    ]
    clipped = [_meet(a, p) for p in parts]
    if integer:
        clipped = [close_integer_bounds(p) for p in clipped]
    return [p for p in clipped if not p.is_empty()]


def _cell_meet(a: Cell, b: Cell) -> Cell:
    if isinstance(a, Members) and isinstance(b, Members):
        return Members(a.values & b.values)
    assert isinstance(a, Interval) and isinstance(b, Interval)
    return _meet(a, b)
