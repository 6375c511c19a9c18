"""Reading credit data for training and evaluation: CSV, target, column kinds.

Every refusal names the field and the rule, so an analyst pointing the trainer at a new
file learns what to fix instead of reading a traceback.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml
from pydantic import ValidationError

from limitwise.kit.errors import InvalidInput, InvalidRequest, Problem
from limitwise.scoring.schemas import DerivedColumn, TrainingConfig
from limitwise.scoring.serve import derived_expr, number_expr

NULL_TOKENS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]
#: Target labels recognised as "bad" without configuration (compared case-insensitively).
KNOWN_BAD_LABELS = ("1", "1.0", "true", "bad", "charged off", "default", "defaulted", "yes")
#: Fewer rows than this cannot support binning.
MIN_ROWS = 50


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def frame_sha256(frame: pl.DataFrame) -> str:
    """sha256 of a frame's CSV text: identifies generated training data."""
    return hashlib.sha256(frame.write_csv().encode("utf-8")).hexdigest()


def read_csv(path: Path, *, field: str = "data") -> pl.DataFrame:
    """Read a CSV; blank header cells become ``column_N`` (1-based position)."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field=field, code="file_exists")
    if path.stat().st_size == 0:
        raise InvalidInput(f"{path} is empty", field=field, code="not_empty")
    try:
        frame = pl.read_csv(path, null_values=NULL_TOKENS, infer_schema_length=10_000)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not a readable CSV: {exc}", field=field, code="csv") from exc
    frame = frame.rename(
        {name: f"column_{i + 1}" for i, name in enumerate(frame.columns) if not name.strip()}
    )
    if frame.height == 0:
        raise InvalidInput(f"{path} has a header but no rows", field=field, code="not_empty")
    return frame


def default_bad_values(distinct: list[str]) -> list[str]:
    return [v for v in distinct if v.strip().lower() in KNOWN_BAD_LABELS][:1]


def encode_target(frame: pl.DataFrame, target: str, bad_values: list[str]) -> tuple[pl.Series, str]:
    """The target as 1 = bad, 0 = good, and the label meaning bad.

    Refuses a missing, partial or non-binary target.
    """
    if target not in frame.columns:
        raise InvalidInput(
            f"target column {target!r} is not in the data (columns: {', '.join(frame.columns)})",
            field=target,
            code="column_exists",
        )
    labels = frame[target].cast(pl.String)
    missing = labels.null_count()
    if missing:
        raise InvalidInput(
            f"target has {missing} missing values", field=target, code="target_complete"
        )
    distinct = sorted(labels.unique().to_list())
    if len(distinct) != 2:
        shown = ", ".join(distinct[:5]) + (", ..." if len(distinct) > 5 else "")
        raise InvalidInput(
            f"target must have exactly two values (good and bad), found {len(distinct)}: {shown}",
            field=target,
            code="binary",
        )
    bad = [v for v in distinct if v in bad_values] if bad_values else default_bad_values(distinct)
    if len(bad) != 1:
        raise InvalidInput(
            f"cannot tell which of {distinct} means bad: pass it with --bad",
            field=target,
            code="bad_value",
        )
    return (labels == bad[0]).cast(pl.Int8).alias(target), bad[0]


_DROP_RULES = {"constant": "not_constant", "all values missing": "not_all_missing"}


@dataclass(frozen=True)
class Candidates:
    """Columns to bin by kind, and the columns left out with the reason why."""

    kinds: dict[str, str]
    dropped: dict[str, str]


def _is_numeric_text(series: pl.Series) -> bool:
    parsed = series.to_frame().select(number_expr(series.name)).to_series()
    return parsed.null_count() == series.null_count()


def detect_columns(
    frame: pl.DataFrame, *, target: str, id_column: str | None, config: TrainingConfig
) -> Candidates:
    """Decide each column's kind; leave out ids, constants and all-missing columns."""
    if id_column is not None and id_column not in frame.columns:
        raise InvalidInput(
            f"id column {id_column!r} is not in the data", field=id_column, code="column_exists"
        )
    unknown = [c for c in [*config.exclude, *config.columns] if c not in frame.columns]
    if unknown:
        raise InvalidRequest(
            problems=[
                Problem(c, "column_exists", f"configured column {c!r} is not in the data")
                for c in unknown
            ]
        )
    kinds: dict[str, str] = {}
    dropped: dict[str, str] = {}
    for name in frame.columns:
        series = frame[name]
        forced = config.columns[name].kind if name in config.columns else None
        if name in (target, id_column) or name in config.exclude:
            continue
        if series.null_count() == frame.height:
            dropped[name] = "all values missing"
        elif series.drop_nulls().n_unique() == 1:
            dropped[name] = "constant"
        elif forced is not None:
            kinds[name] = forced
        elif series.dtype.is_numeric():
            if series.dtype.is_integer() and series.n_unique() == frame.height >= 20:
                dropped[name] = "identifier-like: every value distinct"
            else:
                kinds[name] = "numeric"
        elif series.dtype == pl.String and _is_numeric_text(series):
            kinds[name] = "numeric"
        elif series.dtype == pl.String and series.n_unique() == frame.height >= 20:
            dropped[name] = "identifier-like: every value distinct"
        elif series.dtype in (pl.String, pl.Boolean, pl.Categorical):
            kinds[name] = "categorical"
        else:
            dropped[name] = f"unsupported type {series.dtype}"
    if not kinds:
        raise InvalidRequest(
            problems=[
                Problem(
                    name,
                    _DROP_RULES.get(why, "usable_column"),
                    f"column {name!r} cannot be scored: {why}",
                )
                for name, why in dropped.items()
            ]
            or [Problem("data", "usable_column", "no columns besides the target and id")]
        )
    return Candidates(kinds=kinds, dropped=dropped)


def add_derived(frame: pl.DataFrame, derived: list[DerivedColumn]) -> pl.DataFrame:
    """Compute the configured derived characteristics, refusing unknown inputs or clashes."""
    problems = [
        Problem(
            f"config.derived.{d.name}", "column_exists", f"input column {c!r} is not in the data"
        )
        for d in derived
        for c in d.columns
        if c not in frame.columns
    ] + [
        Problem(
            f"config.derived.{d.name}", "name_free", f"the data already has a {d.name!r} column"
        )
        for d in derived
        if d.name in frame.columns
    ]
    if problems:
        raise InvalidRequest(problems=problems)
    return frame.with_columns(derived_expr(d, frame.schema) for d in derived)


def split_holdout(
    frame: pl.DataFrame, bad: pl.Series, fraction: float, *, seed: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Training and held-out rows: ``fraction`` of the goods and of the bads, seeded."""
    if not 0 < fraction < 1:
        raise InvalidInput(
            f"holdout fraction {fraction} must be above 0 and below 1",
            field="holdout",
            code="fraction",
        )
    held_per_class = {int(v): int(n * fraction) for v, n in bad.value_counts().iter_rows()}
    ranked = frame.with_columns(
        __bad=bad.cast(pl.Int64), __draw=pl.int_range(pl.len()).shuffle(seed=seed)
    )
    held = ranked.select(
        pl.col("__draw").rank("ordinal").over("__bad")
        <= pl.col("__bad").replace_strict(held_per_class)
    ).to_series()
    columns = frame.columns
    train, test = ranked.filter(~held).select(columns), ranked.filter(held).select(columns)
    if min(train.height, test.height) < MIN_ROWS:
        raise InvalidInput(
            f"a holdout of {fraction} leaves {train.height} rows to train on and {test.height}"
            f" to evaluate (need {MIN_ROWS} each)",
            field="holdout",
            code="min_rows",
        )
    return train, test


def load_training_config(path: Path | None) -> TrainingConfig:
    """The YAML training configuration, or the defaults when no file is given."""
    if path is None:
        return TrainingConfig()
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field="config", code="file_exists")
    try:
        body = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path} is not valid YAML: {exc}", field="config", code="yaml") from exc
    try:
        return TrainingConfig.model_validate(body)
    except ValidationError as exc:
        raise InvalidRequest(
            problems=[
                Problem(
                    "config." + ".".join(str(p) for p in error["loc"]), error["type"], error["msg"]
                )
                for error in exc.errors()
            ]
        ) from exc
