"""Discrimination, stability and calibration of a score, in polars (no training stack).

Convention: a higher score means lower risk; ``bad`` is 1 for a bad outcome.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from limitwise.scoring.schemas import Scaling, ScoreDistribution

#: Empty bands count as this share in PSI so the logarithm stays finite.
PSI_FLOOR = 1e-4


def _frame(scores: pl.Series, bad: pl.Series) -> pl.DataFrame:
    return pl.DataFrame({"score": scores.cast(pl.Float64), "bad": bad.cast(pl.Int64)})


def auc(scores: pl.Series, bad: pl.Series) -> float:
    """Probability that a random good outscores a random bad (ties count half)."""
    frame = _frame(scores, bad).with_columns(rank=pl.col("score").rank("average"))
    n_bad = int(frame["bad"].sum())
    n_good = frame.height - n_bad
    if n_bad == 0 or n_good == 0:
        return math.nan
    rank_sum_good = float(frame.filter(pl.col("bad") == 0)["rank"].sum())
    return (rank_sum_good - n_good * (n_good + 1) / 2) / (n_good * n_bad)


def ks(scores: pl.Series, bad: pl.Series) -> float:
    """Largest gap between the cumulative score distributions of bads and goods."""
    frame = (
        _frame(scores, bad)
        .group_by("score")
        .agg(bads=pl.col("bad").sum(), goods=(1 - pl.col("bad")).sum())
        .sort("score")
    )
    n_bad, n_good = frame["bads"].sum(), frame["goods"].sum()
    if n_bad == 0 or n_good == 0:
        return math.nan
    gap = (pl.col("bads").cum_sum() / n_bad - pl.col("goods").cum_sum() / n_good).abs()
    return float(frame.select(gap.max()).item())


def band_edges(scores: pl.Series, *, bands: int = 10) -> list[float]:
    """Inner cut points splitting ``scores`` into (at most) ``bands`` equal-count bands."""
    quantiles = [scores.quantile(i / bands, "lower") for i in range(1, bands)]
    return sorted({float(q) for q in quantiles if q is not None})


def band_of(scores: pl.Series, edges: list[float]) -> pl.Series:
    """Band number of each score: how many edges are at or below it."""
    return (
        pl.Series("band", edges, dtype=pl.Float64)
        .search_sorted(scores.cast(pl.Float64), side="right")
        .cast(pl.Int64)
        .alias("band")
    )


def distribution(scores: pl.Series, edges: list[float]) -> list[float]:
    """Share of scores in each band defined by ``edges`` (``len(edges) + 1`` bands)."""
    index = band_of(scores, edges)
    counts = index.value_counts().sort(index.name)
    shares = [0.0] * (len(edges) + 1)
    for position, count in counts.iter_rows():
        shares[position] = count / scores.len()
    return shares


def score_distribution(scores: pl.Series, *, bands: int = 10) -> ScoreDistribution:
    edges = band_edges(scores.cast(pl.Float64), bands=bands)
    return ScoreDistribution(edges=edges, proportions=distribution(scores, edges))


def psi(expected: list[float], actual: list[float]) -> float:
    """Population stability index of ``actual`` against ``expected`` band shares."""
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, PSI_FLOOR), max(a, PSI_FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def predicted_bad_rate(score: pl.Expr, scaling: Scaling) -> pl.Expr:
    """The bad rate the scaling promises at a score: odds = base_odds * 2^((s - base) / pdo)."""
    odds = scaling.base_odds * (2.0 ** ((score - scaling.base_score) / scaling.pdo))
    return 1.0 / (1.0 + odds)


@dataclass(frozen=True)
class Band:
    band: int
    score_min: float
    score_max: float
    rows: int
    bads: int
    bad_rate: float
    predicted_bad_rate: float


def bands_table(
    scores: pl.Series, bad: pl.Series, edges: list[float], scaling: Scaling
) -> list[Band]:
    """Per score band: size, observed bad rate and the bad rate the scaling predicts."""
    frame = _frame(scores, bad).with_columns(
        band=band_of(scores, edges),
        predicted=predicted_bad_rate(pl.col("score"), scaling),
    )
    grouped = (
        frame.group_by("band")
        .agg(
            score_min=pl.col("score").min(),
            score_max=pl.col("score").max(),
            rows=pl.len(),
            bads=pl.col("bad").sum(),
            bad_rate=pl.col("bad").mean(),
            predicted_bad_rate=pl.col("predicted").mean(),
        )
        .sort("band")
    )
    return [Band(**row) for row in grouped.iter_rows(named=True)]


@dataclass(frozen=True)
class Evaluation:
    rows: int
    bad_rate: float
    auc: float
    ks: float
    gini: float
    psi: float
    bands: list[Band]

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["calibration"] = {
            "observed_bad_rate": self.bad_rate,
            "predicted_bad_rate": sum(b.predicted_bad_rate * b.rows for b in self.bands)
            / max(self.rows, 1),
        }
        return body


def evaluate_scores(
    scores: pl.Series, bad: pl.Series, *, baseline: ScoreDistribution, scaling: Scaling
) -> Evaluation:
    area = auc(scores, bad)
    return Evaluation(
        rows=scores.len(),
        bad_rate=float(bad.cast(pl.Float64).sum()) / max(bad.len(), 1),
        auc=area,
        ks=ks(scores, bad),
        gini=2 * area - 1,
        psi=psi(baseline.proportions, distribution(scores, baseline.edges)),
        bands=bands_table(scores, bad, baseline.edges, scaling),
    )
