"""The policy compiled to one SQL query (a chain of CTEs) for DuckDB or Spark SQL.

Every stage is ``SELECT *, <new columns> FROM <previous stage>``; variables get fresh
column names per stage (``line_fen__3``), so the query needs no dialect-specific
``REPLACE``. Float literals are cast to DOUBLE (DuckDB would read ``0.1`` as DECIMAL) and
integer literals to BIGINT, so arithmetic is the same IEEE-754 / 64-bit arithmetic as in
Python and polars.
"""

from __future__ import annotations

from typing import Literal

from limitwise.policy.batch import ACTION, LINE, MASK, NOTICE, Backend, BatchCompiler, Kind
from limitwise.policy.compiled import Policy
from limitwise.policy.expr import Scalar, Type
from limitwise.policy.polars_plan import REASON_SLOTS
from limitwise.policy.schemas import SEVERITY

Dialect = Literal["duckdb", "spark"]
SQL_TYPES: dict[Kind, str] = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "str": "VARCHAR",
    **dict.fromkeys(("hit", "action", "notice", "mask"), "BIGINT"),
}
OPERATORS = {"==": "=", "!=": "<>", "and": "AND", "or": "OR"}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: Scalar, type_: Kind) -> str:
    if type_ == "bool" or isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if type_ == "str":
        return "'" + str(value).replace("'", "''") + "'"
    if type_ == "float" or isinstance(value, float):
        return f"CAST({float(value)!r} AS DOUBLE)"
    return f"CAST({int(value)} AS BIGINT)"


class SqlBackend(Backend[str]):
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.q = quote_ident if dialect == "duckdb" else (lambda n: f"`{n}`")

    def const(self, value: Scalar, type_: Kind) -> str:
        return literal(value, type_)

    def col(self, name: str) -> str:
        return self.q(name)

    def unary(self, op: str, arg: str) -> str:
        return {"-": f"(-{arg})", "not": f"(NOT {arg})", "abs": f"abs({arg})"}[op]

    def binary(self, op: str, left: str, right: str) -> str:
        return f"({left} {OPERATORS.get(op, op)} {right})"

    def is_in(self, arg: str, values: tuple[Scalar, ...], as_float: bool) -> str:
        items = ", ".join(literal(v, "float" if as_float else _type_of(v)) for v in values)
        target = f"CAST({arg} AS DOUBLE)" if as_float else arg
        return f"({target} IN ({items}))"

    def case(self, branches: list[tuple[str, str]], otherwise: str) -> str:
        whens = " ".join(f"WHEN {cond} THEN {value}" for cond, value in branches)
        return f"(CASE {whens} ELSE {otherwise} END)"

    def extreme(self, func: str, args: list[str]) -> str:
        return f"{'LEAST' if func == 'min' else 'GREATEST'}({', '.join(args)})"

    def round_step(self, value: str, step: int) -> str:
        return (
            f"(CAST(floor({value} / {literal(step, 'int')} + CAST(0.5 AS DOUBLE)) AS BIGINT)"
            f" * {literal(step, 'int')})"
        )

    def cast(self, value: str, type_: Kind) -> str:
        return f"CAST({value} AS {self.type_name(type_)})"

    def type_name(self, type_: Kind) -> str:
        """Spark spells the string type STRING (its VARCHAR needs a length)."""
        return "STRING" if type_ == "str" and self.dialect == "spark" else SQL_TYPES[type_]

    def lookup(self, index: str, values: tuple[Scalar, ...], type_: Kind) -> str:
        items = ", ".join(literal(v, type_) for v in values)
        if self.dialect == "duckdb":
            return f"list_extract([{items}], {index} + 1)"
        return f"element_at(array({items}), CAST({index} AS INT) + 1)"


def _type_of(value: Scalar) -> Type:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return "float" if isinstance(value, float) else "str"


def compile_sql(
    policy: Policy, *, table: str = "book", dialect: Dialect = "duckdb", keep: tuple[str, ...] = ()
) -> str:
    """One SELECT deciding every row of ``table``; output columns as :class:`PolarsPlan`."""
    backend = SqlBackend(dialect)
    plan = BatchCompiler(policy, backend).compile()
    q = backend.q
    typed = ", ".join(
        f"CAST({q(n)} AS {backend.type_name(info.type)}) AS {q(n)}"
        for n, info in policy.features.items()
    )
    extra = "".join(f", {q(k)}" for k in keep if k not in policy.features)
    ctes = [f"s0 AS (SELECT {typed}{extra} FROM {table})"]
    for i, stage in enumerate(plan.stages, start=1):
        columns = ", ".join(f"{expr} AS {q(name)}" for _, name, expr in stage.columns)
        ctes.append(f"s{i} AS (SELECT *, {columns} FROM s{i - 1})")
    env = plan.env
    actions = backend.case(
        [(f"({env[ACTION]} = {code})", literal(a, "str")) for a, code in SEVERITY.items()], "NULL"
    )
    outputs = [
        *(q(k) for k in keep),
        f"{actions} AS action",
        f"CAST({env[LINE]} AS BIGINT) AS line_fen",
        f"{q(policy.current_line)} AS previous_line_fen",
        f"CAST({env[MASK]} AS BIGINT) AS reason_mask",
    ]
    outputs += [
        f"{reason_slot(policy, env[MASK], slot)} AS reason_{slot}"
        for slot in range(1, REASON_SLOTS + 1)
    ]
    notices = [
        (f"({env[NOTICE]} = {i})", literal(n, "str")) for i, n in enumerate(policy.notices, 1)
    ]
    outputs.append(f"{backend.case(notices, 'NULL') if notices else 'NULL'} AS notice")
    outputs += [
        f"CAST({env[var]} AS BIGINT) AS sub_line_{name}_fen"
        for name, var in policy.sub_lines.items()
    ]
    return f"WITH {', '.join(ctes)}\nSELECT {', '.join(outputs)} FROM s{len(plan.stages)}"


def reason_slot(policy: Policy, mask: str, slot: int) -> str:
    """The ``slot``-th lowest set bit of the reason set, as its code."""
    rest = f"CAST({mask} AS BIGINT)"
    for _ in range(slot - 1):
        rest = f"({rest} & ({rest} - 1))"
    lowest = f"({rest} & (-{rest}))"
    whens = " ".join(
        f"WHEN {1 << i} THEN {literal(code, 'str')}" for i, code in enumerate(policy.reason_codes)
    )
    return f"(CASE {lowest} {whens} ELSE NULL END)" if whens else "NULL"
