"""Candidate characteristics generated from the data's own columns, kept on held-out evidence.

What a modeller would try first, with no configuration:

* **ratios and differences of amount columns** (numeric, never negative, at least
  ``MIN_DISTINCT`` values): ``a_per_b`` = a / b (utilisation = balance / limit) and
  ``a_minus_b`` = a - b, for every pair of the ``MAX_AMOUNT_COLUMNS`` most informative ones;
* **counts over repeated-status columns** and **trends across numbered series**: columns
  named ``stem1, stem2, ...`` (three or more) give ``stem_count_positive`` (e.g. months late
  among six status columns) and ``stem_slope`` (the least-squares slope across the series).

Each candidate is screened on information value measured on held-out rows: its quantile bins
are cut on one half of the training rows and its IV counted on the other half. A ratio or
difference is kept only when that held-out IV beats both its inputs' by ``MIN_GAIN`` (more on
small data, where noise alone reaches that); a count or trend when it beats every column of
its series. At most ``max_generated`` are kept,
largest gain first. Each kept one is a :class:`DerivedColumn`, so the artifact carries its
definition and serving recomputes it identically.

Needs numpy (the ``train`` extra); serving does not import this module.
"""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any

import numpy as np
import polars as pl

from limitwise.scoring.schemas import DerivedColumn, TrainingConfig
from limitwise.scoring.serve import derived_expr, number_expr

MIN_DISTINCT = 20
MAX_AMOUNT_COLUMNS = 10
#: Held-out IV a candidate must add over its best input, at least; on small data the bar is
#: ``NOISE_MARGIN`` times the IV pure noise reaches on the held-out rows, about
#: (bins - 1) / (rows * bad rate * good rate) (the chi-square statistic's mean over its scale).
MIN_GAIN = 0.02
NOISE_MARGIN = 3.0
QUANTILE_BINS = 10
_NUMBERED = re.compile(r"^(?P<stem>.*?\D)_?(?P<step>\d+)$")


def heldout_iv(
    values: np.ndarray[Any, Any], y: np.ndarray[Any, Any], fit: np.ndarray[Any, Any]
) -> float:
    """IV over quantile bins cut on the ``fit`` rows and counted on the others (NaN: own bin)."""
    known = ~np.isnan(values)
    fitted = values[fit & known]
    if fitted.size == 0:
        return 0.0
    edges = np.unique(np.quantile(fitted, np.linspace(0, 1, QUANTILE_BINS + 1)[1:-1]))
    held = ~fit
    bins = np.where(known, np.searchsorted(edges, values, side="right"), edges.size + 1)[held]
    labels = y[held]
    bad = np.bincount(bins, weights=labels, minlength=edges.size + 2) + 0.5
    good = np.bincount(bins, weights=1 - labels, minlength=edges.size + 2) + 0.5
    bad_share, good_share = bad / bad.sum(), good / good.sum()
    return float(np.sum((good_share - bad_share) * np.log(good_share / bad_share)))


def amount_columns(frame: pl.DataFrame, kinds: dict[str, str]) -> list[str]:
    """Numeric columns that look like amounts: never negative, many distinct values."""
    numeric = [n for n, kind in kinds.items() if kind == "numeric"]
    values = frame.select(number_expr(n).alias(n) for n in numeric)
    return [
        n
        for n in numeric
        if values[n].n_unique() >= MIN_DISTINCT and (values[n].min() or 0) >= 0  # type: ignore[operator]
    ]


def numbered_series(kinds: dict[str, str]) -> dict[str, list[str]]:
    """Numeric columns named ``stem1, stem2, ...`` (three or more), in step order."""
    series: dict[str, list[tuple[int, str]]] = {}
    for name, kind in kinds.items():
        match = _NUMBERED.match(name)
        if kind == "numeric" and match:
            series.setdefault(match["stem"].rstrip("_"), []).append((int(match["step"]), name))
    return {
        stem: [n for _step, n in sorted(cols)] for stem, cols in series.items() if len(cols) >= 3
    }


def _candidates(
    frame: pl.DataFrame, kinds: dict[str, str], strongest: list[str]
) -> list[DerivedColumn]:
    taken = set(frame.columns)
    made: list[DerivedColumn] = []
    for a, b in combinations(strongest, 2):
        made.append(DerivedColumn(name=f"{a}_per_{b}", op="ratio", columns=[a, b]))
        made.append(DerivedColumn(name=f"{a}_minus_{b}", op="difference", columns=[a, b]))
    for stem, columns in numbered_series(kinds).items():
        made.append(
            DerivedColumn(name=f"{stem}_count_positive", op="count_positive", columns=columns)
        )
        made.append(DerivedColumn(name=f"{stem}_slope", op="slope", columns=columns))
    return [d for d in made if d.name not in taken]


def generate_characteristics(
    frame: pl.DataFrame, y: np.ndarray[Any, Any], kinds: dict[str, str], config: TrainingConfig
) -> tuple[list[DerivedColumn], dict[str, str]]:
    """The generated characteristics worth keeping, and a note on each one screened out."""
    fit = np.random.default_rng(0).random(len(y)) < 0.5
    numeric = [n for n, kind in kinds.items() if kind == "numeric"]
    inputs = frame.select(number_expr(n).alias(n) for n in numeric)
    iv = {
        n: heldout_iv(inputs[n].cast(pl.Float64).fill_null(np.nan).to_numpy(), y, fit)
        for n in numeric
    }
    amounts = sorted(amount_columns(frame, kinds), key=lambda n: -iv[n])[:MAX_AMOUNT_COLUMNS]
    candidates = _candidates(frame, kinds, amounts)
    if not candidates:
        return [], {}
    values = frame.select(derived_expr(d, frame.schema) for d in candidates)
    held = y[~fit]
    noise = (QUANTILE_BINS - 1) / max(held.size * held.mean() * (1 - held.mean()), 1.0)
    bar = max(MIN_GAIN, NOISE_MARGIN * noise)
    gains: dict[str, float] = {}
    for d in candidates:
        column = values[d.name].fill_null(np.nan).to_numpy()
        gains[d.name] = heldout_iv(column, y, fit) - max(iv[c] for c in d.columns)
    ranked = sorted((d for d in candidates if gains[d.name] > bar), key=lambda d: -gains[d.name])
    kept = ranked[: config.max_generated]
    notes = {
        d.name: _screened_out(d, gains[d.name], bar, config) for d in candidates if d not in kept
    }
    return kept, notes


def _screened_out(derived: DerivedColumn, gain: float, bar: float, config: TrainingConfig) -> str:
    made = f"generated ({derived.op} of {', '.join(derived.columns)})"
    if gain <= bar:
        return f"{made}: held-out IV gain {gain:.4f} not above {bar:.4f}"
    return f"{made}: not among the {config.max_generated} largest held-out IV gains"
