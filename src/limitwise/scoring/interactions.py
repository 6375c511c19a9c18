"""The interaction model: an Explainable Boosting Machine frozen into points tables.

An EBM (interpretml) is additive in the logit of bad: an intercept, one shape function per
column and a few pairwise functions, each a lookup table over bins. That is exactly a
scorecard with 2-D tables, so it is frozen into the same artifact: every 1-D term becomes a
:class:`Characteristic`, every pair an :class:`Interaction`, and the logit is scaled to points
like the WoE scorecard (``points = share - factor * f(x)``, the intercept and offset shared
equally among the terms). Adjacent bins that round to the same points are merged.

Declared monotonic trends are kept: the column's shape function is constrained and the column
takes part in no pair, so more risk never earns more points.

Needs the ``train`` extra (interpret); serving does not import this module.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from limitwise.scoring.blend import interval, merged_bins
from limitwise.scoring.schemas import (
    MAX_TERMS,
    Axis,
    Characteristic,
    Interaction,
    ReasonText,
    TrainingConfig,
)
from limitwise.scoring.train import column_label, reason_text

#: optbinning trend names a column may declare, as EBM constraints on the logit of bad.
_MONOTONE = {"ascending": 1, "descending": -1}


def _constraints(names: list[str], config: TrainingConfig) -> list[int]:
    constraints = []
    for name in names:
        column = config.columns.get(name)
        constraints.append(_MONOTONE.get(column.monotonic_trend or "", 0) if column else 0)
    return constraints


def _pairs(names: list[str], config: TrainingConfig) -> int | list[tuple[int, int]]:
    """The declared pairs present in the data (by column index), else how many to detect."""
    room = max(0, MAX_TERMS - len(names))
    if not config.interaction_pairs:
        return min(config.max_interactions, room)
    index = {name: i for i, name in enumerate(names)}
    present = [(index[a], index[b]) for a, b in config.interaction_pairs if {a, b} <= set(index)]
    return present[:room]


def fit_ebm(
    x: pd.DataFrame, y: np.ndarray[Any, Any], kinds: dict[str, str], config: TrainingConfig
) -> Any:
    """Fit the EBM on the candidate columns (declared-monotone columns stay out of pairs).

    The pairs are detected, or the declared ``interaction_pairs``; either way they are capped
    so that the frozen card keeps within :data:`MAX_TERMS` terms.
    """
    from interpret.glassbox import ExplainableBoostingClassifier

    names = list(kinds)
    constraints = _constraints(names, config)
    monotone = [n for n, c in zip(names, constraints, strict=True) if c]
    excluded = sorted({tuple(sorted((m, n))) for m in monotone for n in names if n != m})
    model = ExplainableBoostingClassifier(
        feature_names=names,
        feature_types=["continuous" if kinds[n] == "numeric" else "nominal" for n in names],
        interactions=_pairs(names, config),
        exclude=[list(pair) for pair in excluded] or None,
        monotone_constraints=constraints if monotone else None,
        max_bins=config.interaction_max_bins,
        outer_bags=config.interaction_bags,
        learning_rate=config.interaction_learning_rate,
        smoothing_rounds=25,
        interaction_smoothing_rounds=25,
        random_state=0,
    )
    model.fit(x, y)
    return model


def _axis_bins(model: Any, feature: int, level: int) -> Any:
    levels = model.bins_[feature]
    return levels[min(level, len(levels) - 1)]


def _axis(name: str, bins: Any) -> Axis:
    if isinstance(bins, dict):
        groups: dict[int, list[str]] = {}
        for category, index in bins.items():
            groups.setdefault(int(index), []).append(str(category))
        return Axis(name=name, kind="categorical", categories=[groups[i] for i in sorted(groups)])
    return Axis(name=name, kind="numeric", splits=[float(s) for s in bins])


class _Scale:
    """Logit of bad to integer points, the constant shared equally among ``terms``."""

    def __init__(self, config: TrainingConfig, intercept: float, terms: int) -> None:
        scaling = config.scaling
        self.factor = scaling.pdo / math.log(2)
        offset = scaling.base_score - self.factor * math.log(scaling.base_odds)
        self.share = (offset - self.factor * intercept) / terms

    def points(self, logits: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return np.rint(self.share - self.factor * np.asarray(logits, dtype=float)).astype(int)


def _main_effect(
    axis: Axis, table: np.ndarray[Any, Any], label: ReasonText, importance: float, code: str
) -> Characteristic:
    missing = int(table[0])
    if axis.kind == "numeric":
        splits, points = merged_bins(axis.splits, [int(p) for p in table[1:-1]])
        edges: list[float | None] = [None, *splits, None]
        bins = [interval(edges[i], edges[i + 1]) for i in range(len(points))]
        categories: list[list[str]] = []
        unknown = missing  # a numeric column has no unseen category; keep the best reachable
    else:
        splits, points = [], [int(p) for p in table[1:-1]]
        categories = axis.categories
        bins = [", ".join(group) for group in categories]
        unknown = int(table[-1])
    return Characteristic(
        name=axis.name,
        code=code,
        kind=axis.kind,
        label=label,
        reason=reason_text(label, axis.kind, points),
        reason_missing=ReasonText(en=f"{label.en} was not provided", zh=f"未提供{label.zh}"),
        iv=importance,
        splits=splits,
        categories=categories,
        bins=bins,
        points=points,
        points_missing=missing,
        points_unknown=unknown,
    )


def _pair(
    axes: list[Axis],
    table: np.ndarray[Any, Any],
    labels: list[ReasonText],
    importance: float,
    code: str,
) -> Interaction:
    table = table.copy()
    # A numeric axis never reaches its "unknown" slot: copy the missing slot there so the
    # table's best points are ones a row can earn.
    if axes[0].kind == "numeric":
        table[-1, :] = table[0, :]
    if axes[1].kind == "numeric":
        table[:, -1] = table[:, 0]
    first, second = labels
    return Interaction(
        name=f"{axes[0].name} x {axes[1].name}",
        code=code,
        label=ReasonText(en=f"{first.en} with {second.en}", zh=f"{first.zh}与{second.zh}"),
        reason=ReasonText(
            en=f"The combination of {first.en} and {second.en} carries more risk",
            zh=f"{first.zh}与{second.zh}的组合风险较高",
        ),
        reason_missing=ReasonText(
            en=f"{first.en} or {second.en} was not provided",
            zh=f"未提供{first.zh}或{second.zh}",
        ),
        importance=importance,
        axes=axes,
        points=[[int(p) for p in row] for row in table],
    )


def freeze_ebm(
    model: Any, config: TrainingConfig, prefix: str
) -> tuple[list[Characteristic], list[Interaction]]:
    """The fitted EBM's terms as points tables, strongest first within each kind."""
    names: list[str] = list(model.feature_names_in_)
    terms: list[tuple[int, ...]] = [tuple(t) for t in model.term_features_]
    importances = [float(v) for v in model.term_importances()]
    scale = _Scale(config, float(np.ravel(model.intercept_)[0]), len(terms))
    order = sorted(range(len(terms)), key=lambda t: (len(terms[t]), -importances[t]))
    characteristics: list[Characteristic] = []
    interactions: list[Interaction] = []
    for position, t in enumerate(order):
        code = f"{prefix}{position + 1:02d}"
        table = scale.points(model.term_scores_[t])
        features = terms[t]
        level = len(features) - 1
        axes = [_axis(names[f], _axis_bins(model, f, level)) for f in features]
        labels = [column_label(names[f], config) for f in features]
        if len(features) == 1:
            characteristics.append(_main_effect(axes[0], table, labels[0], importances[t], code))
        else:
            interactions.append(_pair(axes, table, labels, importances[t], code))
    return characteristics, interactions
