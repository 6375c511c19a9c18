"""The safe expression language: parsed with the stdlib ``ast`` restricted to a whitelist.

An expression is parsed once into a small typed tree (``Expr``); nothing is ever executed
by Python's ``eval``. The tree is then compiled by each evaluator (closures for one account,
polars / SQL for the whole book). Supported: ``+ - * /`` (division only by a non-zero
constant, so no evaluator needs a division-by-zero rule), comparisons (chained too),
``and or not``, ``in`` / ``not in`` a literal list, ``a if cond else b`` and the functions
``min max clamp round between abs yuan``.

Numeric semantics (identical in every evaluator): ``int`` is a 64-bit integer, ``float`` an
IEEE-754 double. ``int op int`` stays ``int`` for ``+ - *``; anything touching a float, and
every ``/``, is a double. ``round(x)`` and ``round(x, step)`` round half up in doubles:
``floor(x / step + 0.5) * step`` and return an ``int``; ``yuan(x)`` is ``x * 100`` (fen).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Type = Literal["int", "float", "bool", "str"]
NUMERIC: frozenset[str] = frozenset({"int", "float"})
Scalar = int | float | bool | str

CMP_OPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
BIN_OPS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
FUNCTIONS = ("min", "max", "clamp", "round", "between", "abs", "yuan")


class ExprError(ValueError):
    """An expression that does not parse or does not type-check; ``column`` is 1-based."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True, slots=True)
class VarInfo:
    """What the type checker knows about a name: its type and, for enums, its values."""

    type: Type
    values: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Const:
    value: Scalar
    type: Type


@dataclass(frozen=True, slots=True)
class Var:
    name: str
    type: Type


@dataclass(frozen=True, slots=True)
class Neg:
    arg: Expr
    type: Type


@dataclass(frozen=True, slots=True)
class Not:
    arg: Expr
    type: Type = "bool"


@dataclass(frozen=True, slots=True)
class Bin:
    op: str
    left: Expr
    right: Expr
    type: Type


@dataclass(frozen=True, slots=True)
class Cmp:
    op: str
    left: Expr
    right: Expr
    type: Type = "bool"


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: Literal["and", "or"]
    args: tuple[Expr, ...]
    type: Type = "bool"


@dataclass(frozen=True, slots=True)
class In:
    arg: Expr
    values: tuple[Scalar, ...]
    negate: bool
    type: Type = "bool"


@dataclass(frozen=True, slots=True)
class Call:
    """``min``/``max`` (n-ary), ``clamp(x, lo, hi)``, ``round(x, step)`` (step int constant),
    ``between(x, lo, hi)`` (inclusive), ``abs(x)``."""

    func: str
    args: tuple[Expr, ...]
    type: Type


@dataclass(frozen=True, slots=True)
class IfElse:
    cond: Expr
    then: Expr
    otherwise: Expr
    type: Type


Expr = Const | Var | Neg | Not | Bin | Cmp | BoolOp | In | Call | IfElse


def parse(text: str, scope: Mapping[str, VarInfo]) -> Expr:
    """Parse and type-check ``text`` against the names in ``scope``."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"syntax error: {exc.msg}", exc.offset) from None
    return _Checker(scope).check(tree.body)


def names_in(expr: Expr) -> set[str]:
    """Every variable an expression reads."""
    if isinstance(expr, Var):
        return {expr.name}
    found: set[str] = set()
    for child in children(expr):
        found |= names_in(child)
    return found


def children(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, (Neg, Not)):
        return (expr.arg,)
    if isinstance(expr, (Bin, Cmp)):
        return (expr.left, expr.right)
    if isinstance(expr, (BoolOp, Call)):
        return expr.args
    if isinstance(expr, In):
        return (expr.arg,)
    if isinstance(expr, IfElse):
        return (expr.cond, expr.then, expr.otherwise)
    return ()


def numeric_type(*types: Type) -> Type:
    return "int" if all(t == "int" for t in types) else "float"


def fold(expr: Bin) -> Expr:
    """Fold arithmetic on two constants (same IEEE-754 result every engine would compute)."""
    left, right = expr.left, expr.right
    if not (isinstance(left, Const) and isinstance(right, Const)):
        return expr
    a, b = float(left.value), float(right.value)
    if expr.type == "int":
        x, y = int(left.value), int(right.value)
        return Const(x + y if expr.op == "+" else x - y if expr.op == "-" else x * y, "int")
    value = (
        a + b if expr.op == "+" else a - b if expr.op == "-" else a * b if expr.op == "*" else a / b
    )
    return Const(value, "float")


class _Checker:
    def __init__(self, scope: Mapping[str, VarInfo]) -> None:
        self.scope = scope

    def fail(self, node: ast.AST, message: str) -> ExprError:
        return ExprError(message, getattr(node, "col_offset", -1) + 1)

    def check(self, node: ast.expr) -> Expr:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise self.fail(node, f"{type(node).__name__} is not allowed in policy expressions")
        result: Expr = method(node)
        return result

    def numeric(self, node: ast.expr, what: str) -> Expr:
        expr = self.check(node)
        if expr.type not in NUMERIC:
            raise self.fail(node, f"{what} must be a number, got {expr.type}")
        return expr

    def boolean(self, node: ast.expr, what: str) -> Expr:
        expr = self.check(node)
        if expr.type != "bool":
            raise self.fail(node, f"{what} must be true/false, got {expr.type}")
        return expr

    def visit_Constant(self, node: ast.Constant) -> Expr:
        value = node.value
        if isinstance(value, bool):
            return Const(value, "bool")
        if isinstance(value, int):
            if abs(value) >= 2**53:
                raise self.fail(node, f"integer {value} is too large (limit 2**53)")
            return Const(value, "int")
        if isinstance(value, float):
            return Const(value, "float")
        if isinstance(value, str):
            return Const(value, "str")
        raise self.fail(node, f"constant {value!r} is not allowed")

    def visit_Name(self, node: ast.Name) -> Expr:
        if node.id in ("true", "false"):
            return Const(node.id == "true", "bool")
        info = self.scope.get(node.id)
        if info is None:
            raise self.fail(node, f"unknown feature or variable '{node.id}'")
        return Var(node.id, info.type)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Expr:
        if isinstance(node.op, ast.Not):
            return Not(self.boolean(node.operand, "operand of 'not'"))
        if isinstance(node.op, ast.USub):
            arg = self.numeric(node.operand, "operand of '-'")
            if isinstance(arg, Const) and not isinstance(arg.value, (bool, str)):
                return Const(-arg.value, arg.type)
            return Neg(arg, arg.type)
        if isinstance(node.op, ast.UAdd):
            return self.numeric(node.operand, "operand of '+'")
        raise self.fail(node, "only 'not' and '-' are allowed as unary operators")

    def visit_BinOp(self, node: ast.BinOp) -> Expr:
        op = BIN_OPS.get(type(node.op))
        if op is None:
            raise self.fail(node, "only + - * / are allowed")
        left = self.numeric(node.left, f"left side of '{op}'")
        right = self.numeric(node.right, f"right side of '{op}'")
        if op == "/" and (not isinstance(right, Const) or right.value == 0):
            raise self.fail(node.right, "division is only allowed by a non-zero constant")
        return fold(
            Bin(op, left, right, "float" if op == "/" else numeric_type(left.type, right.type))
        )

    def visit_BoolOp(self, node: ast.BoolOp) -> Expr:
        op: Literal["and", "or"] = "and" if isinstance(node.op, ast.And) else "or"
        args = tuple(self.boolean(value, f"operand of '{op}'") for value in node.values)
        return BoolOp(op, args)

    def visit_Compare(self, node: ast.Compare) -> Expr:
        parts: list[Expr] = []
        left_node = node.left
        for op_node, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op_node, (ast.In, ast.NotIn)):
                parts.append(self.membership(left_node, right_node, isinstance(op_node, ast.NotIn)))
            else:
                parts.append(self.compare(op_node, left_node, right_node))
            left_node = right_node
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def compare(self, op_node: ast.cmpop, left_node: ast.expr, right_node: ast.expr) -> Expr:
        op = CMP_OPS.get(type(op_node))
        if op is None:
            raise self.fail(left_node, "'is' comparisons are not allowed; use == or !=")
        left, right = self.check(left_node), self.check(right_node)
        if left.type in NUMERIC and right.type in NUMERIC:
            return Cmp(op, left, right)
        if left.type != right.type:
            raise self.fail(left_node, f"cannot compare {left.type} with {right.type}")
        if op not in ("==", "!="):
            raise self.fail(left_node, f"'{op}' needs numbers, got {left.type}")
        self.check_enum_literal(left_node, left, right)
        self.check_enum_literal(left_node, right, left)
        return Cmp(op, left, right)

    def check_enum_literal(self, node: ast.expr, var: Expr, const: Expr) -> None:
        if isinstance(var, Var) and isinstance(const, Const):
            values = self.scope[var.name].values
            if values is not None and const.value not in values:
                raise self.fail(
                    node,
                    f"'{const.value}' is not a value of {var.name} (allowed: {', '.join(values)})",
                )

    def membership(self, left_node: ast.expr, right_node: ast.expr, negate: bool) -> Expr:
        arg = self.check(left_node)
        if not isinstance(right_node, (ast.List, ast.Tuple, ast.Set)) or not right_node.elts:
            raise self.fail(right_node, "'in' needs a non-empty literal list, e.g. x in ['a', 'b']")
        consts = [self.check(elt) for elt in right_node.elts]
        values: list[Scalar] = []
        for elt, const in zip(right_node.elts, consts, strict=True):
            if not isinstance(const, Const):
                raise self.fail(elt, "'in' list items must be constants")
            same = const.type == arg.type or {const.type, arg.type} <= NUMERIC
            if not same or arg.type == "bool":
                raise self.fail(elt, f"'in' list item {const.value!r} does not match {arg.type}")
            self.check_enum_literal(elt, arg, const)
            values.append(const.value)
        return In(arg, tuple(values), negate)

    def visit_IfExp(self, node: ast.IfExp) -> Expr:
        cond = self.boolean(node.test, "condition of 'if'")
        then, otherwise = self.check(node.body), self.check(node.orelse)
        if then.type in NUMERIC and otherwise.type in NUMERIC:
            return IfElse(cond, then, otherwise, numeric_type(then.type, otherwise.type))
        if then.type != otherwise.type:
            raise self.fail(
                node, f"both branches of 'if' must have one type: {then.type} vs {otherwise.type}"
            )
        return IfElse(cond, then, otherwise, then.type)

    def visit_Call(self, node: ast.Call) -> Expr:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise self.fail(node, f"unknown function; allowed: {', '.join(FUNCTIONS)}")
        if node.keywords:
            raise self.fail(node, "keyword arguments are not allowed")
        func = node.func.id
        args = tuple(self.numeric(arg, f"argument of {func}()") for arg in node.args)
        arity = {"clamp": (3,), "between": (3,), "abs": (1,), "yuan": (1,), "round": (1, 2)}
        if func in ("min", "max") and len(args) < 2:
            raise self.fail(node, f"{func}() needs at least two arguments")
        if func in arity and len(args) not in arity[func]:
            raise self.fail(node, f"{func}() takes {' or '.join(map(str, arity[func]))} arguments")
        if func == "between":
            return Call(func, args, "bool")
        if func == "round":
            if len(args) == 2:
                step = args[1]
                if not (isinstance(step, Const) and step.type == "int" and int(step.value) > 0):
                    raise self.fail(node, "round(x, step) needs a positive integer constant step")
            else:
                args = (args[0], Const(1, "int"))
            return Call(func, args, "int")
        if func == "yuan":
            return fold(Bin("*", args[0], Const(100, "int"), args[0].type))
        return Call(func, args, numeric_type(*(a.type for a in args)))
