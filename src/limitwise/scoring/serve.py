"""Serve a frozen scorecard: row by row (online decisions) or a whole frame with polars.

Both paths implement the same three rules and are tested to agree exactly:

* a value's points come from its bin; missing values score ``points_missing`` and unseen
  categories ``points_unknown``; numeric text such as ``"83.7%"`` reads as ``83.7`` and any
  other text in a numeric characteristic counts as missing;
* a pairwise interaction's points come from its 2-D table, indexed by both inputs' bins;
* the score is the sum of the characteristics' and interactions' integer points;
* the reasons are the (at most four) terms (characteristics, then interactions) whose points
  fall furthest below their best bin, largest loss first, ties broken by the term order in
  the artifact;
* a segmented artifact first routes the row by its segment value to that segment's card (an
  unseen or missing value goes to the pooled card), then scores it with that card alone, so
  the reasons are the largest point losses within the chosen card; the route is reported.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from limitwise.kit.errors import InvalidRequest, Problem
from limitwise.scoring.schemas import (
    Axis,
    Characteristic,
    DerivedColumn,
    Interaction,
    Scorecard,
    Segment,
)

Term = Characteristic | Interaction

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
#: The card a segmented artifact routed a row to (scoring adds it before ``score``).
SEGMENT_OUTPUT = "score_segment"
#: The route of a row no segment card claims.
POOLED = "pooled"


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
class Route:
    """Which card of a segmented artifact scored a row, and why."""

    segment: str
    why: str


@dataclass(frozen=True)
class ScoreResult:
    """One scored row: the total, each characteristic's points, the reasons, and the route
    (None unless the artifact is segmented)."""

    score: int
    points: dict[str, int]
    reasons: list[Reason]
    route: Route | None = None


def as_number(value: Any) -> float | None:
    """A value as a number, or None when it is missing or not numeric."""
    if value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip().removesuffix("%").strip()
        # Python's float() also reads non-ASCII digits and "1_000"; polars' cast (the
        # whole-book twin, number_expr) does not, so neither does this.
        if not text.isascii() or "_" in text:
            return None
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


def is_missing(characteristic: Characteristic | Axis, value: Any) -> bool:
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


def axis_index(axis: Axis, value: Any) -> int:
    """The row of a pairwise table a value falls in (0 = missing, last = unknown category)."""
    if axis.kind == "numeric":
        number = as_number(value)
        return 0 if number is None else 1 + bisect_right(axis.splits, number)
    category = as_category(value)
    if category is None:
        return 0
    for index, group in enumerate(axis.categories):
        if category in group:
            return index + 1
    return axis.size - 1


def interaction_points(interaction: Interaction, row: Mapping[str, Any]) -> int:
    first, second = interaction.axes
    return interaction.points[axis_index(first, row[first.name])][
        axis_index(second, row[second.name])
    ]


def term_inputs(term: Term) -> list[str]:
    """The (possibly derived) columns one term reads."""
    if isinstance(term, Interaction):
        return [axis.name for axis in term.axes]
    return [term.name]


def term_points(term: Term, row: Mapping[str, Any]) -> int:
    if isinstance(term, Interaction):
        return interaction_points(term, row)
    return characteristic_points(term, row[term.name])


def term_is_missing(term: Term, row: Mapping[str, Any]) -> bool:
    if isinstance(term, Interaction):
        return any(is_missing(axis, row[axis.name]) for axis in term.axes)
    return is_missing(term, row[term.name])


def reason_for(term: Term, row: Mapping[str, Any], points_lost: int) -> Reason:
    """The reason a term cost points: "not provided" when an input was missing."""
    text = term.reason_missing if term_is_missing(term, row) else term.reason
    return Reason(term.code, term.name, points_lost, text.en, text.zh)


def terms_of(scorecard: Scorecard) -> list[Term]:
    """Every scored term in artifact order: characteristics, then interactions."""
    return [*scorecard.characteristics, *scorecard.interactions]


def input_columns(scorecard: Scorecard) -> list[str]:
    """The data columns scoring reads: characteristics, with derived ones by their inputs
    (a segmented artifact: its segment column, then every card's columns)."""
    needed: list[str] = [scorecard.segment_column] if scorecard.segment_column else []
    for card in (scorecard, *(segment.scorecard for segment in scorecard.segments)):
        derived = {d.name: d.columns for d in card.derived}
        for term in terms_of(card):
            for column in term_inputs(term):
                for name in derived.get(column, [column]):
                    if name not in needed:
                        needed.append(name)
    return needed


def pooled_card(scorecard: Scorecard) -> Scorecard:
    """The artifact's own terms as an unsegmented card."""
    if not scorecard.segments:
        return scorecard
    return scorecard.model_copy(update={"segment_column": None, "segments": []})


def segment_of(scorecard: Scorecard, value: Any) -> Segment | None:
    """The segment whose card scores a row with this segment value (None: the pooled card)."""
    category = as_category(value)
    return next((s for s in scorecard.segments if category in s.values), None)


def route_row(scorecard: Scorecard, row: Mapping[str, Any]) -> tuple[Scorecard, Route]:
    """The card that scores ``row`` in a segmented artifact, and the route taken."""
    column = scorecard.segment_column
    value = as_category(row[column]) if column else None
    segment = segment_of(scorecard, value)
    if segment is not None:
        return segment.scorecard, Route(segment.name, f"{column} is {value!r}: its own card")
    why = (
        f"{column} was not provided: the pooled card"
        if value is None
        else f"{column} {value!r} has no card of its own: the pooled card"
    )
    return pooled_card(scorecard), Route(POOLED, why)


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
    if derived.op == "difference":
        result = numbers[0] - numbers[1]
    elif derived.op == "count_positive":
        result = float(sum(1 for number in numbers if number > 0))
    elif derived.op == "slope":
        result = sum(w * v for w, v in zip(slope_weights(len(numbers)), numbers, strict=True))
    else:
        result = numbers[0]
        for number in numbers[1:]:
            result = result + number if derived.op == "sum" else result * number
    return None if math.isnan(result) else result


def slope_weights(steps: int) -> list[float]:
    """Weights whose dot product with a series at steps 0..n-1 is its least-squares slope."""
    centre = (steps - 1) / 2
    spread = sum((i - centre) ** 2 for i in range(steps))
    return [(i - centre) / spread for i in range(steps)]


def derived_expr(derived: DerivedColumn, schema: pl.Schema) -> pl.Expr:
    """A derived characteristic as a polars expression (left to right, like the row path)."""
    values = [_number_of(name, schema[name]) for name in derived.columns]
    if derived.op == "ratio":
        result = pl.when(values[1] == 0).then(None).otherwise(values[0] / values[1])
    elif derived.op == "difference":
        result = values[0] - values[1]
    elif derived.op == "count_positive":
        counted = pl.sum_horizontal((v > 0).cast(pl.Float64) for v in values)
        result = (
            pl.when(pl.any_horizontal(v.is_null() for v in values)).then(None).otherwise(counted)
        )
    elif derived.op == "slope":
        result = pl.lit(0.0)
        for weight, value in zip(slope_weights(len(values)), values, strict=True):
            result = result + weight * value
    else:
        result = values[0]
        for value in values[1:]:
            result = result + value if derived.op == "sum" else result * value
    return pl.when(result.is_nan()).then(None).otherwise(result).alias(derived.name)


def score_row(scorecard: Scorecard, row: Mapping[str, Any]) -> ScoreResult:
    """Score one applicant or account given as a mapping of column -> value."""
    check_columns(scorecard, row.keys())
    if scorecard.segments:
        card, route = route_row(scorecard, row)
        result = score_row(card, row)
        return ScoreResult(result.score, result.points, result.reasons, route)
    if scorecard.derived:
        row = {**row, **{d.name: derive_value(d, row) for d in scorecard.derived}}
    terms = terms_of(scorecard)
    points = {t.name: term_points(t, row) for t in terms}
    ranked = sorted(
        ((t.points_best - points[t.name], position, t) for position, t in enumerate(terms)),
        key=lambda item: (-item[0], item[1]),
    )
    reasons = [reason_for(t, row, loss) for loss, _position, t in ranked[:MAX_REASONS] if loss > 0]
    return ScoreResult(score=sum(points.values()), points=points, reasons=reasons)


def number_expr(column: str) -> pl.Expr:
    """The polars twin of :func:`as_number`."""
    raw = pl.col(column)
    text = raw.cast(pl.String).str.strip_chars().str.strip_suffix("%").str.strip_chars()
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


def value_expr(characteristic: Characteristic | Axis, dtype: pl.DataType) -> pl.Expr:
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


def axis_index_expr(axis: Axis, dtype: pl.DataType) -> pl.Expr:
    """The polars twin of :func:`axis_index`."""
    value = value_expr(axis, dtype)
    if axis.kind == "numeric":
        index = pl.sum_horizontal(
            pl.lit(1), *((value >= split).cast(pl.Int64) for split in axis.splits)
        )
    else:
        mapping = {category: i + 1 for i, group in enumerate(axis.categories) for category in group}
        index = value.replace_strict(mapping, default=axis.size - 1, return_dtype=pl.Int64)
    return pl.when(value.is_null()).then(pl.lit(0)).otherwise(index).cast(pl.Int64)


def term_points_expr(term: Term, schema: pl.Schema) -> pl.Expr:
    """Each row's points on one term, as a polars expression."""
    if isinstance(term, Characteristic):
        return points_expr(term, schema[term.name])
    first, second = term.axes
    flat = axis_index_expr(first, schema[first.name]) * second.size + axis_index_expr(
        second, schema[second.name]
    )
    mapping = {
        i * second.size + j: points
        for i, row in enumerate(term.points)
        for j, points in enumerate(row)
    }
    return flat.replace_strict(mapping, return_dtype=pl.Int64)


def term_missing_expr(term: Term, schema: pl.Schema) -> pl.Expr:
    """True where the term's reason should say an input was not provided."""
    axes: list[Characteristic | Axis] = list(term.axes) if isinstance(term, Interaction) else [term]
    return pl.any_horizontal(value_expr(a, schema[a.name]).is_null() for a in axes)


def score_frame(
    scorecard: Scorecard, frame: pl.DataFrame, *, lang: Lang = "en", with_points: bool = False
) -> pl.DataFrame:
    """Add ``score``, ``reason_1..4`` (codes) and ``reason_1_text..4`` to ``frame``, vectorised.

    With ``with_points`` each characteristic's points are kept as ``points__<name>``. A
    segmented artifact also adds ``score_segment``, the card that scored the row.
    """
    check_columns(scorecard, frame.columns)
    if scorecard.segments:
        return _score_segmented(scorecard, frame, lang=lang, with_points=with_points)
    original = frame.columns
    if scorecard.derived:
        frame = frame.with_columns(derived_expr(d, frame.schema) for d in scorecard.derived)
    chars = terms_of(scorecard)
    point_cols = [f"points__{c.name}" for c in chars]
    scored = frame.with_columns(
        term_points_expr(c, frame.schema).alias(col)
        for c, col in zip(chars, point_cols, strict=True)
    )
    key_cols = [f"__key_of_{position}" for position in range(len(chars))]
    # Bit i is set when characteristic i is missing on the row (its reason then says so).
    missing_mask = pl.sum_horizontal(
        term_missing_expr(c, frame.schema).cast(pl.Int64) * (1 << i) for i, c in enumerate(chars)
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


def segment_expr(scorecard: Scorecard, dtype: pl.DataType) -> pl.Expr:
    """The polars twin of :func:`route_row`: each row's segment name."""
    column = scorecard.segment_column or ""
    names = {value: segment.name for segment in scorecard.segments for value in segment.values}
    return category_expr(column, dtype).replace_strict(
        names, default=POOLED, return_dtype=pl.String
    )


def _score_segmented(
    scorecard: Scorecard, frame: pl.DataFrame, *, lang: Lang, with_points: bool
) -> pl.DataFrame:
    """Score each segment's rows with its card and put the rows back in their order."""
    row = "__row_of_segmented"
    column = scorecard.segment_column or ""
    routed = frame.with_row_index(row).with_columns(
        segment_expr(scorecard, frame.schema[column]).alias(SEGMENT_OUTPUT)
    )
    cards = [(POOLED, pooled_card(scorecard))]
    cards += [(segment.name, segment.scorecard) for segment in scorecard.segments]
    parts = [
        score_frame(
            card, routed.filter(pl.col(SEGMENT_OUTPUT) == name), lang=lang, with_points=with_points
        )
        for name, card in cards
    ]
    scored = pl.concat(parts, how="diagonal_relaxed").sort(row)
    kept = [c for c in frame.columns if c not in (*OUTPUT_COLUMNS, SEGMENT_OUTPUT)]
    points = sorted(c for c in scored.columns if c.startswith("points__")) if with_points else []
    return scored.select(*kept, SEGMENT_OUTPUT, *OUTPUT_COLUMNS, *points)


def score_rows(scorecard: Scorecard, frame: pl.DataFrame, *, lang: Lang = "en") -> pl.DataFrame:
    """The row-by-row twin of :func:`score_frame` (same columns, one Python call per row)."""
    results = [score_row(scorecard, row) for row in frame.iter_rows(named=True)]
    columns: dict[str, list[Any]] = {}
    if scorecard.segments:
        columns[SEGMENT_OUTPUT] = [r.route.segment if r.route else None for r in results]
    columns["score"] = [r.score for r in results]
    for k in range(MAX_REASONS):
        picked = [r.reasons[k] if k < len(r.reasons) else None for r in results]
        columns[f"reason_{k + 1}"] = [p.code if p else None for p in picked]
        columns[f"reason_{k + 1}_text"] = [p.text(lang) if p else None for p in picked]
    extra = pl.DataFrame(
        columns, schema={name: pl.String for name in columns} | {"score": pl.Int64}
    )
    kept = frame.drop([c for c in (*OUTPUT_COLUMNS, SEGMENT_OUTPUT) if c in frame.columns])
    return pl.concat([kept, extra.select(list(columns))], how="horizontal")
