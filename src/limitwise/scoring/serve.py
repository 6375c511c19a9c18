"""Serve a frozen scorecard: row by row (online decisions) or a whole frame with polars.

Both paths implement the same three rules and are tested to agree exactly:

* a value's points come from its bin; missing values score ``points_missing`` and unseen
  categories ``points_unknown``; numeric text such as ``"83.7%"`` reads as ``83.7`` and any
  other text in a numeric characteristic counts as missing;
* the score is the sum of the characteristics' integer points;
* the reasons are the (at most four) characteristics whose points fall furthest below their
  best bin, largest loss first, ties broken by the characteristic order in the artifact.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from limitwise.kit.errors import InvalidRequest, Problem
from limitwise.scoring.schemas import Characteristic, DerivedColumn, Scorecard

MAX_REASONS = 4
Lang = Literal["en", "zh"]
#: Reasons are ranked on one integer key per characteristic, unique within a row:
#: loss * _KEY_BASE + (_KEY_BASE - 1 - position), so ties go to the earlier characteristic.
_KEY_BASE = 4096
#: What scoring adds to a frame, in order.
OUTPUT_COLUMNS = (
    "score",
    *(f"reason_{k}{suffix}" for k in range(1, MAX_REASONS + 1) for suffix in ("", "_text")),
)


@dataclass(frozen=True)
class Reason:
    code: str
    characteristic: str
    points_lost: int
    text_en: str
    text_zh: str

    def text(self, lang: Lang) -> str:
        return self.text_zh if lang == "zh" else self.text_en


@dataclass(frozen=True)
class ScoreResult:
    """One scored row: the total, each characteristic's points, and the reasons."""

    score: int
    points: dict[str, int]
    reasons: list[Reason]


def as_number(value: Any) -> float | None:
    """A value as a number, or None when it is missing or not numeric."""
    if value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().removesuffix("%")
        try:
            number = float(text)
        except ValueError:
            return None
    return None if math.isnan(number) else number


def as_category(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_missing(characteristic: Characteristic, value: Any) -> bool:
    if characteristic.kind == "numeric":
        return as_number(value) is None
    return as_category(value) is None


def characteristic_points(characteristic: Characteristic, value: Any) -> int:
    """Points one value earns on one characteristic."""
    if characteristic.kind == "numeric":
        number = as_number(value)
        if number is None:
            return characteristic.points_missing
        return characteristic.points[bisect_right(characteristic.splits, number)]
    category = as_category(value)
    if category is None:
        return characteristic.points_missing
    for index, group in enumerate(characteristic.categories):
        if category in group:
            return characteristic.points[index]
    return characteristic.points_unknown


def reason_for(characteristic: Characteristic, value: Any, points_lost: int) -> Reason:
    """The reason a value cost points: "not provided" when it was missing."""
    c = characteristic
    text = c.reason_missing if is_missing(c, value) else c.reason
    return Reason(c.code, c.name, points_lost, text.en, text.zh)


def input_columns(scorecard: Scorecard) -> list[str]:
    """The data columns scoring reads: characteristics, with derived ones by their inputs."""
    derived = {d.name: d.columns for d in scorecard.derived}
    needed: list[str] = []
    for c in scorecard.characteristics:
        for name in derived.get(c.name, [c.name]):
            if name not in needed:
                needed.append(name)
    return needed


def check_columns(scorecard: Scorecard, columns: Iterable[str]) -> None:
    """Refuse data that lacks a column the scorecard needs (it would silently score missing)."""
    present = set(columns)
    problems = [
        Problem(name, "column_required", f"column {name!r} is needed by the scorecard")
        for name in input_columns(scorecard)
        if name not in present
    ]
    if problems:
        raise InvalidRequest(problems=problems)


def derive_value(derived: DerivedColumn, row: Mapping[str, Any]) -> float | None:
    """One derived characteristic for one row (the twin of :func:`derived_expr`)."""
    values = [as_number(row[name]) for name in derived.columns]
    if any(v is None for v in values):
        return None
    numbers = [v for v in values if v is not None]
    if derived.op == "ratio":
        return None if numbers[1] == 0 else numbers[0] / numbers[1]
    result = numbers[0]
    for number in numbers[1:]:
        result = result + number if derived.op == "sum" else result * number
    return None if math.isnan(result) else result


def derived_expr(derived: DerivedColumn, schema: pl.Schema) -> pl.Expr:
    """A derived characteristic as a polars expression (left to right, like the row path)."""
    values = [_number_of(name, schema[name]) for name in derived.columns]
    if derived.op == "ratio":
        result = pl.when(values[1] == 0).then(None).otherwise(values[0] / values[1])
    else:
        result = values[0]
        for value in values[1:]:
            result = result + value if derived.op == "sum" else result * value
    return pl.when(result.is_nan()).then(None).otherwise(result).alias(derived.name)


def score_row(scorecard: Scorecard, row: Mapping[str, Any]) -> ScoreResult:
    """Score one applicant or account given as a mapping of column -> value."""
    check_columns(scorecard, row.keys())
    if scorecard.derived:
        row = {**row, **{d.name: derive_value(d, row) for d in scorecard.derived}}
    points = {c.name: characteristic_points(c, row[c.name]) for c in scorecard.characteristics}
    ranked = sorted(
        (
            (c.points_best - points[c.name], position, c)
            for position, c in enumerate(scorecard.characteristics)
        ),
        key=lambda item: (-item[0], item[1]),
    )
    reasons = [
        reason_for(c, row[c.name], loss) for loss, _position, c in ranked[:MAX_REASONS] if loss > 0
    ]
    return ScoreResult(score=sum(points.values()), points=points, reasons=reasons)


def number_expr(column: str) -> pl.Expr:
    """The polars twin of :func:`as_number`."""
    raw = pl.col(column)
    text = raw.cast(pl.String).str.strip_chars().str.strip_suffix("%")
    number = text.cast(pl.Float64, strict=False)
    return pl.when(number.is_nan()).then(None).otherwise(number)


def category_expr(column: str, dtype: pl.DataType) -> pl.Expr:
    """The polars twin of :func:`as_category`."""
    if dtype == pl.Boolean:
        return pl.col(column).replace_strict({True: "true", False: "false"}, default=None)
    return pl.col(column).cast(pl.String)


def _number_of(column: str, dtype: pl.DataType) -> pl.Expr:
    if dtype in (pl.String, pl.Categorical):
        return number_expr(column)
    value = pl.col(column).cast(pl.Float64)
    return pl.when(value.is_nan()).then(None).otherwise(value)


def value_expr(characteristic: Characteristic, dtype: pl.DataType) -> pl.Expr:
    """The column as serving reads it: float (numeric) or string (categorical); null = missing."""
    c = characteristic
    if c.kind == "categorical":
        return category_expr(c.name, dtype)
    return _number_of(c.name, dtype)


def points_expr(characteristic: Characteristic, dtype: pl.DataType) -> pl.Expr:
    """A polars expression giving each row's points on one characteristic."""
    c = characteristic
    value = value_expr(c, dtype)
    if c.kind == "numeric":
        binned: pl.Expr = pl.lit(c.points[-1])
        for split, points in reversed(list(zip(c.splits, c.points, strict=False))):
            binned = pl.when(value < split).then(pl.lit(points)).otherwise(binned)
        return (
            pl.when(value.is_null()).then(pl.lit(c.points_missing)).otherwise(binned).cast(pl.Int64)
        )
    mapping = {category: c.points[i] for i, group in enumerate(c.categories) for category in group}
    return (
        pl.when(value.is_null())
        .then(pl.lit(c.points_missing))
        .otherwise(value.replace_strict(mapping, default=c.points_unknown, return_dtype=pl.Int64))
        .cast(pl.Int64)
    )


def score_frame(
    scorecard: Scorecard, frame: pl.DataFrame, *, lang: Lang = "en", with_points: bool = False
) -> pl.DataFrame:
    """Add ``score``, ``reason_1..4`` (codes) and ``reason_1_text..4`` to ``frame``, vectorised.

    With ``with_points`` each characteristic's points are kept as ``points__<name>``.
    """
    check_columns(scorecard, frame.columns)
    original = frame.columns
    if scorecard.derived:
        frame = frame.with_columns(derived_expr(d, frame.schema) for d in scorecard.derived)
    chars = scorecard.characteristics
    point_cols = [f"points__{c.name}" for c in chars]
    scored = frame.with_columns(
        points_expr(c, frame.schema[c.name]).alias(col)
        for c, col in zip(chars, point_cols, strict=True)
    )
    key_cols = [f"__key_of_{position}" for position in range(len(chars))]
    # Bit i is set when characteristic i is missing on the row (its reason then says so).
    missing_mask = pl.sum_horizontal(
        value_expr(c, frame.schema[c.name]).is_null().cast(pl.Int64) * (1 << i)
        for i, c in enumerate(chars)
    )
    scored = scored.with_columns(missing_mask.alias("__missing_mask")).with_columns(
        ((pl.lit(c.points_best) - pl.col(col)) * _KEY_BASE + (_KEY_BASE - 1 - position)).alias(key)
        for position, (c, col, key) in enumerate(zip(chars, point_cols, key_cols, strict=True))
    )
    # Keys are unique per row, so the k-th reason is the largest key below the (k-1)-th.
    for k in range(MAX_REASONS):
        previous = pl.col(f"__key_{k - 1}") if k else None
        candidates = [
            pl.col(key) if previous is None else pl.when(pl.col(key) < previous).then(pl.col(key))
            for key in key_cols
        ]
        scored = scored.with_columns(pl.max_horizontal(candidates).alias(f"__key_{k}"))
    codes = {_KEY_BASE - 1 - i: c.code for i, c in enumerate(chars)}
    bits = {_KEY_BASE - 1 - i: 1 << i for i in range(len(chars))}
    texts = {
        2 * (_KEY_BASE - 1 - i) + missing: getattr(text, lang)
        for i, c in enumerate(chars)
        for missing, text in ((0, c.reason), (1, c.reason_missing))
    }
    reason_cols: list[pl.Expr] = []
    for k in range(MAX_REASONS):
        key = pl.col(f"__key_{k}")
        lost = key // _KEY_BASE > 0
        slot = key % _KEY_BASE
        missing = pl.col("__missing_mask") // slot.replace_strict(bits, return_dtype=pl.Int64) % 2
        reason_cols.append(
            pl.when(lost)
            .then(slot.replace_strict(codes, return_dtype=pl.String))
            .alias(f"reason_{k + 1}")
        )
        reason_cols.append(
            pl.when(lost)
            .then((2 * slot + missing).replace_strict(texts, return_dtype=pl.String))
            .alias(f"reason_{k + 1}_text")
        )
    scored = scored.with_columns(pl.sum_horizontal(point_cols).alias("score"), *reason_cols)
    kept = [c for c in original if c not in OUTPUT_COLUMNS]
    return scored.select(*kept, *OUTPUT_COLUMNS, *(point_cols if with_points else []))


def score_rows(scorecard: Scorecard, frame: pl.DataFrame, *, lang: Lang = "en") -> pl.DataFrame:
    """The row-by-row twin of :func:`score_frame` (same columns, one Python call per row)."""
    results = [score_row(scorecard, row) for row in frame.iter_rows(named=True)]
    columns: dict[str, list[Any]] = {"score": [r.score for r in results]}
    for k in range(MAX_REASONS):
        picked = [r.reasons[k] if k < len(r.reasons) else None for r in results]
        columns[f"reason_{k + 1}"] = [p.code if p else None for p in picked]
        columns[f"reason_{k + 1}_text"] = [p.text(lang) if p else None for p in picked]
    extra = pl.DataFrame(
        columns, schema={name: pl.String for name in columns} | {"score": pl.Int64}
    )
    kept = frame.drop([c for c in OUTPUT_COLUMNS if c in frame.columns])
    return pl.concat([kept, extra.select(OUTPUT_COLUMNS)], how="horizontal")
