"""The policy compiled to a polars lazy plan for whole-book evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from limitwise.kit.errors import InvalidInput
from limitwise.policy.batch import ACTION, LINE, MASK, NOTICE, Backend, BatchCompiler, Kind
from limitwise.policy.compiled import MatrixStep, Policy, RulesetStep, TableStep
from limitwise.policy.expr import Scalar, VarInfo
from limitwise.policy.schemas import SEVERITY

DTYPES: dict[Kind, Any] = {
    "int": pl.Int64,
    "float": pl.Float64,
    "bool": pl.Boolean,
    "str": pl.String,
}
REASON_SLOTS = 4
MATCHED_ENUM_VALUES = 4
"""Up to this many values, a text column is matched against each value to become an enum
(a few comparisons of short strings); longer enums are hashed by a cast."""


def code_dtypes(policy: Policy) -> dict[Kind, Any]:
    """The narrowest integer types that hold the policy's internal codes: fewer bytes per
    account to compute and write than 64-bit integers."""
    counts = [1]
    for step in policy.steps:
        if isinstance(step, RulesetStep):
            counts.append(len(step.branches))
        elif isinstance(step, TableStep):
            counts.append(len(step.rows))
        elif isinstance(step, MatrixStep):
            counts.append(len(step.values))
    return {
        **DTYPES,
        "hit": _unsigned(max(counts)),
        "action": pl.Int8,
        "notice": _unsigned(len(policy.notices)),
        "mask": pl.UInt32 if len(policy.reason_codes) <= 32 else pl.UInt64,
    }


def _unsigned(largest: int) -> Any:
    return pl.UInt8 if largest < 1 << 8 else pl.UInt16 if largest < 1 << 16 else pl.UInt32


class PolarsBackend(Backend[pl.Expr]):
    def __init__(self, policy: Policy) -> None:
        self.dtypes = code_dtypes(policy)

    def const(self, value: Scalar, type_: Kind) -> pl.Expr:
        return pl.lit(value, dtype=self.dtypes[type_])

    def col(self, name: str) -> pl.Expr:
        return pl.col(name)

    def unary(self, op: str, arg: pl.Expr) -> pl.Expr:
        return {"-": lambda: -arg, "not": lambda: ~arg, "abs": arg.abs}[op]()

    def binary(self, op: str, left: pl.Expr, right: pl.Expr) -> pl.Expr:
        if op in ("and", "|"):
            return left & right if op == "and" else left | right
        if op == "or":
            return left | right
        ops = {
            "+": left.add,
            "-": left.sub,
            "*": left.mul,
            "/": left.truediv,
            "==": left.eq,
            "!=": left.ne,
            "<": left.lt,
            "<=": left.le,
            ">": left.gt,
            ">=": left.ge,
        }
        result: pl.Expr = ops[op](right)
        return result

    def is_in(self, arg: pl.Expr, values: tuple[Scalar, ...], as_float: bool) -> pl.Expr:
        if as_float:
            return arg.cast(pl.Float64).is_in([float(v) for v in values])
        return arg.is_in(list(values))

    def case(self, branches: list[tuple[pl.Expr, pl.Expr]], otherwise: pl.Expr) -> pl.Expr:
        """Constant choices (hit numbers, codes) as the first of flat when/thens that holds
        (else ``otherwise``): a when/then chain nests each next choice as a computed arm,
        whose inputs polars masks."""
        if all(value.meta.is_literal() for _, value in branches):
            return pl.coalesce(*(pl.when(cond).then(value) for cond, value in branches), otherwise)
        (first_cond, first_value), rest = branches[0], branches[1:]
        chain: Any = pl.when(first_cond).then(first_value)
        for cond, value in rest:
            chain = chain.when(cond).then(value)
        result: pl.Expr = chain.otherwise(otherwise)
        return result

    def extreme(self, func: str, args: list[pl.Expr]) -> pl.Expr:
        return pl.min_horizontal(*args) if func == "min" else pl.max_horizontal(*args)

    def round_step(self, value: pl.Expr, step: int) -> pl.Expr:
        """Cast as Rust's ``as`` does (saturating, NaN to 0): about half the strict cast's
        cost, and the same integers in the range every evaluator supports (below 2^63)."""
        return ((value / step) + 0.5).floor().cast(pl.Int64, wrap_numerical=True) * step

    def settle(self, value: pl.Expr, step: int, low: int, high: int) -> pl.Expr:
        """Clamped while still a double, then cast. The same integer as clamping the rounded
        integer whenever the bounds are exact doubles, as rounding to a double keeps order;
        no integer multiply can overflow, and a huge target settles at ``high`` as online."""
        if max(abs(low), abs(high)) > 2**53:
            return super().settle(value, step, low, high)
        multiple = ((value / step) + 0.5).floor() * float(step)
        clamped = pl.max_horizontal(float(low), pl.min_horizontal(float(high), multiple))
        return clamped.cast(pl.Int64, wrap_numerical=True)

    def cast(self, value: pl.Expr, type_: Kind) -> pl.Expr:
        return value.cast(self.dtypes[type_])

    def lookup(self, index: pl.Expr, values: tuple[Scalar, ...], type_: Kind) -> pl.Expr:
        return pl.lit(pl.Series(values, dtype=self.dtypes[type_])).gather(index)

    def arm_reads(self, value: pl.Expr) -> frozenset[str] | None:
        reads = frozenset(value.meta.root_names())
        return None if value.meta.is_column() or not reads else reads

    def column_name(self, var: str, version: int) -> str:
        return var


class PolarsPlan:
    """``apply(book)`` adds the decision columns to a lazy frame of features.

    Output columns: ``action``, ``line_fen``, ``previous_line_fen``, ``reason_mask``,
    ``reason_1`` .. ``reason_4`` (highest priority first), ``notice`` (the text ones as
    ``pl.Enum``) and one
    ``sub_line_<name>_fen`` per product sub-line; ``keep`` names input columns to carry
    (in their declared types). A text value outside a short enum's declared ones fails the
    collect with ``OutOfBoundsError`` (see ``_enum_from_text``); ``evaluate_book`` turns
    that into ``InvalidInput`` naming the column.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.backend = PolarsBackend(policy)
        self.plan = BatchCompiler(policy, self.backend).compile()

    def apply(self, book: pl.LazyFrame, *, keep: tuple[str, ...] = ()) -> pl.LazyFrame:
        schema = book.collect_schema()
        _require_features(self.policy, schema.names())
        frame = book.with_columns(self.typed_features(schema))
        for stage in self.plan.stages:
            frame = frame.with_columns(expr.alias(name) for _, name, expr in stage.columns)
        return decision_frame(self.policy, frame, self.plan.env, keep=keep)

    def typed_features(self, schema: pl.Schema) -> list[pl.Expr]:
        """Each feature in its declared type; a column already of that type is left alone."""
        typed = []
        for name, info in self.policy.features.items():
            dtype = declared_dtype(info)
            if schema[name] == dtype:
                continue
            if (
                info.values
                and schema[name] == pl.String
                and len(info.values) <= MATCHED_ENUM_VALUES
            ):
                typed.append(_enum_from_text(name, info.values))
            else:
                typed.append(pl.col(name).cast(dtype))
        return typed


def decision_frame(
    policy: Policy, frame: pl.LazyFrame, env: dict[str, pl.Expr], *, keep: tuple[str, ...]
) -> pl.LazyFrame:
    """The output columns from the final codes in ``env`` (action severity, line, reason
    set, notice number from 1, sub-line variables), shared by every engine that computes
    codes: the polars plan and the compiled kernel."""
    mask_dtype = code_dtypes(policy)["mask"]
    rest = env[MASK].cast(mask_dtype).alias(_rest(1))
    for slot in range(1, REASON_SLOTS + 1):  # a column each: polars does not share them
        frame = frame.with_columns(rest)
        rest = (pl.col(_rest(slot)) & (pl.col(_rest(slot)) - 1)).alias(_rest(slot + 1))
    width = 64 if mask_dtype == pl.UInt64 else 32
    return frame.with_columns(_labels(policy, env, width)).select(*keep, *_outputs(policy, env))


def _labels(policy: Policy, env: dict[str, pl.Expr], width: int) -> list[pl.Expr]:
    """Codes become ``pl.Enum`` columns by gathering from a small series (no strings are
    built per row); the i-th reason is found by clearing the lowest set bit i-1 times.
    Each slot and the notice are gathered as if set, from a series without nulls (a
    gather that copies nulls costs twice as much); ``_outputs`` nulls the unset ones."""
    codes = [*policy.reason_codes, *[None] * (width + 1 - len(policy.reason_codes))]
    labels = [
        _gather(codes, pl.col(_rest(slot)).bitwise_trailing_zeros()).alias(_label(slot))
        for slot in range(1, REASON_SLOTS + 1)
    ]
    notice = _gather([None, *policy.notices], env[NOTICE]).alias(_label(0))
    return [*labels, notice]


def _outputs(policy: Policy, env: dict[str, pl.Expr]) -> list[pl.Expr]:
    columns = [
        _gather(list(SEVERITY), env[ACTION]).alias("action"),
        env[LINE].cast(pl.Int64).alias("line_fen"),
        pl.col(policy.current_line).alias("previous_line_fen"),
        env[MASK].cast(pl.Int64).alias("reason_mask"),
    ]
    columns += [
        pl.when(pl.col(_rest(slot)) != 0).then(pl.col(_label(slot))).alias(f"reason_{slot}")
        for slot in range(1, REASON_SLOTS + 1)
    ]
    columns.append(pl.when(env[NOTICE] != 0).then(pl.col(_label(0))).alias("notice"))
    columns += [
        env[var].cast(pl.Int64).alias(f"sub_line_{name}_fen")
        for name, var in policy.sub_lines.items()
    ]
    return columns


def _require_features(policy: Policy, columns: list[str]) -> None:
    missing = sorted(set(policy.features) - set(columns))
    if missing:
        raise InvalidInput(
            f"the book lacks features: {', '.join(missing)}",
            field="book",
            code="missing_features",
        )


def check_book(policy: Policy, book: pl.DataFrame) -> None:
    """Every feature present and non-null (as the online evaluator requires)."""
    _require_features(policy, book.columns)
    nulls = [n for n in policy.features if book[n].null_count()]
    if nulls:
        raise InvalidInput(
            f"features may not be null: {', '.join(nulls)}", field="book", code="null_feature"
        )


def declared_dtype(info: VarInfo) -> Any:
    """The polars type a feature is evaluated in: its enum, else its declared type."""
    return pl.Enum(info.values) if info.values else DTYPES[info.type]


def _label(slot: int) -> str:
    """The text of a reason slot (or, for 0, of the notice), null or not."""
    return f"_lw_label_{slot}"


def _rest(slot: int) -> str:
    """The reason set with its ``slot - 1`` lowest bits cleared."""
    return f"_lw_reasons_{slot}"


def _enum_from_text(name: str, values: tuple[str, ...]) -> pl.Expr:
    """``cast(pl.Enum(values))`` by comparisons: each text becomes the number of its value,
    and that number gathers the enum. An undeclared text gathers out of bounds, so the plan
    fails (``OutOfBoundsError``, where the cast raises ``InvalidOperationError``); a null
    stays null as with the cast."""
    text, code = pl.col(name), pl.lit(len(values), dtype=pl.UInt8)
    chain: Any = pl.when(text == values[0]).then(pl.lit(0, dtype=pl.UInt8))
    for k, value in enumerate(values[1:], 1):
        chain = chain.when(text == value).then(pl.lit(k, dtype=pl.UInt8))
    codes: pl.Expr = chain.when(text.is_not_null()).then(code)
    return pl.lit(pl.Series(values, dtype=pl.Enum(values))).gather(codes).alias(name)


def _gather(labels: Sequence[str | None], index: pl.Expr) -> pl.Expr:
    """``labels[index]`` as an enum of the labels; a None label gathers the first one."""
    categories = [label for label in labels if label is not None] or [""]
    filled = [categories[0] if label is None else label for label in labels]
    return pl.lit(pl.Series(filled, dtype=pl.Enum(categories))).gather(index)


def evaluate_book(
    policy: Policy,
    book: pl.LazyFrame | pl.DataFrame,
    *,
    keep: tuple[str, ...] = (),
    streaming: bool = True,
) -> pl.DataFrame:
    """Decide every account of ``book`` (a frame with one column per feature).

    Features must be non-null (as in the online evaluator) and enum values must be declared
    ones; a book that breaks either is refused naming the column, never half-evaluated.
    """
    if isinstance(book, pl.DataFrame):
        check_book(policy, book)
    plan = PolarsPlan(policy).apply(book.lazy(), keep=keep)
    try:
        return plan.collect(engine="streaming" if streaming else "auto")
    except (pl.exceptions.InvalidOperationError, pl.exceptions.OutOfBoundsError) as exc:
        problem = _schema_problem(policy, book.lazy()) or str(exc)
        raise InvalidInput(
            f"the book does not fit the feature schema: {problem}",
            field="book",
            code="bad_feature",
        ) from None


def _schema_problem(policy: Policy, book: pl.LazyFrame) -> str | None:
    """What the plain casts of the features say about a book the plan refused (they name
    the column and its bad values)."""
    casts = [pl.col(name).cast(declared_dtype(info)) for name, info in policy.features.items()]
    try:
        book.select(casts).collect()
    except pl.exceptions.InvalidOperationError as exc:
        return str(exc)
    return None
