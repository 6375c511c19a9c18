"""Train a scorecard with optbinning and freeze it into the JSON artifact.

Method: optimal binning of every usable column (missing values as their own bin, numeric
trends monotonic unless configured otherwise), selection by information value, removal of
the weaker of any two highly correlated characteristics, a logistic regression on the
weights of evidence (characteristics with a reversed sign are dropped and the model refit, so
more risk never earns more points), and points scaled by base score / base odds / PDO.

Needs the ``train`` extra (optbinning, scikit-learn); serving does not import this module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import polars as pl

from limitwise import __version__
from limitwise.kit.errors import InvalidInput
from limitwise.scoring import metrics
from limitwise.scoring.data import (
    MIN_ROWS,
    Candidates,
    add_derived,
    detect_columns,
    encode_target,
)
from limitwise.scoring.schemas import (
    Characteristic,
    DerivedColumn,
    Interaction,
    Metrics,
    Purpose,
    ReasonText,
    Scorecard,
    Segment,
    TrainingConfig,
    TrainingSummary,
)
from limitwise.scoring.serve import (
    Term,
    category_expr,
    derived_expr,
    number_expr,
    score_frame,
    term_inputs,
)

Family = Literal["scorecard", "interactions"]
#: Most segment cards a searched segment column may give (more: too many small cards).
MAX_SEARCHED_SEGMENTS = 4


def training_matrix(frame: pl.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """The columns as optbinning wants them: floats (NaN = missing) and category strings."""
    exprs = [
        number_expr(name) if kind == "numeric" else category_expr(name, frame.schema[name])
        for name, kind in kinds.items()
    ]
    selected = frame.select(expr.alias(name) for expr, name in zip(exprs, kinds, strict=True))
    data: dict[str, Any] = {}
    for name, kind in kinds.items():
        column = selected[name]
        if kind == "numeric":
            data[name] = column.cast(pl.Float64).fill_null(np.nan).to_numpy()
        else:
            data[name] = np.array(column.to_list(), dtype=object)
    return pd.DataFrame(data)


def _binning_process(
    names: list[str], kinds: dict[str, str], config: TrainingConfig, *, rows: int, select: bool
) -> Any:
    from optbinning import BinningProcess

    fit_params: dict[str, dict[str, Any]] = {}
    for name in names:
        column = config.columns.get(name)
        trend = column.monotonic_trend if column and column.monotonic_trend else None
        if kinds[name] == "numeric":
            fit_params[name] = {"monotonic_trend": trend or config.monotonic_trend}
        elif trend:
            fit_params[name] = {"monotonic_trend": trend}
    selection = (
        {"iv": {"min": config.min_iv, "strategy": "highest", "top": config.max_characteristics}}
        if select
        else None
    )
    return BinningProcess(
        variable_names=names,
        categorical_variables=[n for n in names if kinds[n] == "categorical"],
        max_n_prebins=config.max_n_prebins,
        min_prebin_size=min(max(config.min_prebin_size, config.min_bin_rows / rows), 0.5),
        min_bin_size=min(max(config.min_bin_size, config.min_bin_rows / rows), 0.5),
        max_n_bins=config.max_n_bins,
        selection_criteria=selection,
        binning_fit_params=fit_params,
    )


def select_characteristics(
    x: pd.DataFrame, y: np.ndarray[Any, Any], kinds: dict[str, str], config: TrainingConfig
) -> tuple[list[str], dict[str, str]]:
    """Characteristics kept after the IV threshold and the correlation filter."""
    process = _binning_process(list(kinds), kinds, config, rows=len(y), select=True)
    process.fit(x, y)
    summary = process.summary().set_index("name")
    iv = {name: float(summary.loc[name, "iv"]) for name in kinds}
    kept = sorted((str(n) for n in process.get_support(names=True)), key=lambda n: -iv[n])
    dropped = {
        n: f"information value {iv[n]:.4f} below {config.min_iv}"
        if iv[n] < config.min_iv
        else f"not among the {config.max_characteristics} strongest characteristics"
        for n in kinds
        if n not in kept
    }
    if not kept:
        raise InvalidInput(
            "no characteristic reaches the minimum information value "
            f"{config.min_iv}: the columns do not separate good from bad",
            field="data",
            code="min_iv",
        )
    woe = process.transform(x[kept], metric="woe", metric_missing="empirical")
    correlation = np.atleast_2d(np.nan_to_num(np.corrcoef(woe.to_numpy(dtype=float), rowvar=False)))
    final: list[str] = []
    for i, name in enumerate(kept):
        stronger = [f for f in final if abs(correlation[i, kept.index(f)]) > config.max_correlation]
        if stronger:
            dropped[name] = (
                f"weight of evidence correlates with {stronger[0]} above {config.max_correlation}"
            )
        else:
            final.append(name)
    return final, dropped


def fit_scorecard(
    x: pd.DataFrame,
    y: np.ndarray[Any, Any],
    names: list[str],
    kinds: dict[str, str],
    config: TrainingConfig,
) -> tuple[Any, list[str], dict[str, str]]:
    """Fit the optbinning Scorecard, dropping characteristics whose sign comes out reversed."""
    from optbinning import Scorecard as OptScorecard
    from sklearn.linear_model import LogisticRegression

    dropped: dict[str, str] = {}
    names = list(names)
    while True:
        model = OptScorecard(
            binning_process=_binning_process(names, kinds, config, rows=len(y), select=False),
            estimator=LogisticRegression(C=config.regularisation_c, max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params={
                "pdo": config.scaling.pdo,
                "odds": config.scaling.base_odds,
                "scorecard_points": config.scaling.base_score,
            },
            rounding=True,
        )
        model.fit(x[names], y, metric_missing="empirical", show_digits=6)
        # Higher WoE means safer, so each coefficient on P(bad) must be negative.
        coefficients = dict(zip(names, model.estimator_.coef_.flatten(), strict=True))
        reversed_sign = [n for n in names if coefficients[n] > 0]
        if not reversed_sign or len(names) == 1:
            return model, names, dropped
        worst = max(reversed_sign, key=lambda n: coefficients[n])
        dropped[worst] = "coefficient sign reversed next to stronger characteristics"
        names.remove(worst)


def column_label(name: str, config: TrainingConfig) -> ReasonText:
    column = config.columns.get(name)
    en = column.label_en if column and column.label_en else name
    zh = column.label_zh if column and column.label_zh else en
    return ReasonText(en=en, zh=zh)


def reason_text(label: ReasonText, kind: str, points: list[int]) -> ReasonText:
    """Borrower-facing reason: says which way the value hurts when the points are monotone."""
    if kind == "numeric" and points == sorted(points, reverse=True):
        return ReasonText(en=f"{label.en} is too high", zh=f"{label.zh}偏高")
    if kind == "numeric" and points == sorted(points):
        return ReasonText(en=f"{label.en} is too low", zh=f"{label.zh}偏低")
    if kind == "numeric":
        return ReasonText(
            en=f"{label.en} is outside the range that scores best",
            zh=f"{label.zh}不在得分最高的区间",
        )
    return ReasonText(
        en=f"{label.en}: this category carries more risk",
        zh=f"{label.zh}：该类别风险较高",
    )


def freeze_characteristic(
    model: Any, name: str, kind: str, position: int, config: TrainingConfig, code_prefix: str
) -> Characteristic:
    """One characteristic of the fitted optbinning model as plain data."""
    optb = model.binning_process_.get_binned_variable(name)
    table = model.table(style="detailed")
    rows = table[table["Variable"] == name].reset_index(drop=True)
    n_bins = len(rows) - 2  # the last two rows are "Special" and "Missing"
    points = [int(p) for p in rows["Points"][:n_bins]]
    scaling = config.scaling
    factor = scaling.pdo / math.log(2)
    offset = scaling.base_score - factor * math.log(scaling.base_odds)
    n_characteristics = len(model.binning_process_.get_support(names=True))
    intercept = float(np.ravel(model.estimator_.intercept_)[0])
    neutral = round(-(intercept / n_characteristics) * factor + offset / n_characteristics)
    label = column_label(name, config)
    return Characteristic(
        name=name,
        code=f"{code_prefix}{position + 1:02d}",
        kind="numeric" if kind == "numeric" else "categorical",
        label=label,
        reason=reason_text(label, kind, points),
        reason_missing=ReasonText(en=f"{label.en} was not provided", zh=f"未提供{label.zh}"),
        iv=float(optb.binning_table.iv),
        splits=[float(s) for s in optb.splits] if kind == "numeric" else [],
        categories=[[str(c) for c in group] for group in optb.splits] if kind != "numeric" else [],
        bins=[str(b) for b in rows["Bin"][:n_bins]],
        points=points,
        points_missing=int(rows["Points"].iloc[-1]),
        points_unknown=int(neutral),
        event_rates=[round(float(r), 6) for r in rows["Event rate"][:n_bins]],
    )


def _version(name: str, trained_on: dt.date, items: list[Any]) -> str:
    body = json.dumps([item.model_dump(mode="json") for item in items], sort_keys=True)
    return f"{name}-{trained_on:%Y%m%d}-{hashlib.sha256(body.encode()).hexdigest()[:8]}"


def fit_terms(
    x: pd.DataFrame,
    y: np.ndarray[Any, Any],
    kinds: dict[str, str],
    config: TrainingConfig,
    family: Family,
) -> tuple[list[Characteristic], list[Interaction], dict[str, str]]:
    """Fit one model family and freeze it into characteristics and interactions."""
    prefix = "A" if config.purpose == Purpose.APPLICATION else "B"
    if family == "interactions":
        from limitwise.scoring.interactions import fit_ebm, freeze_ebm

        characteristics, interactions = freeze_ebm(fit_ebm(x, y, kinds, config), config, prefix)
        return characteristics, interactions, {}
    names, dropped_selection = select_characteristics(x, y, kinds, config)
    model, names, dropped_sign = fit_scorecard(x, y, names, kinds, config)
    characteristics = [
        freeze_characteristic(model, name, kinds[name], i, config, prefix)
        for i, name in enumerate(names)
    ]
    return characteristics, [], dropped_selection | dropped_sign


def measured(scorecard: Scorecard, frame: pl.DataFrame) -> Metrics:
    """AUC, KS and Gini of the artifact's scores on labelled rows."""
    bad, _label = encode_target(frame, scorecard.training.target, scorecard.training.bad_values)
    scores = score_frame(scorecard, frame)["score"]
    area = metrics.auc(scores, bad)
    return Metrics(auc=area, ks=metrics.ks(scores, bad), gini=2 * area - 1)


def cross_validated(
    frame: pl.DataFrame,
    *,
    target: str,
    config: TrainingConfig,
    id_column: str | None,
    trained_on: dt.date,
    folds: int,
    families: tuple[Family, ...],
) -> dict[Family, Metrics]:
    """Mean held-out metrics of each family's frozen artifact, on the same stratified folds."""
    from sklearn.model_selection import StratifiedKFold

    bad, _label = encode_target(frame, target, config.bad_values)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    measures: dict[Family, list[Metrics]] = {family: [] for family in families}
    for train_rows, test_rows in splitter.split(np.zeros(frame.height), bad.to_numpy()):
        for family, fold_measures in measures.items():
            scorecard = train_scorecard(
                frame[train_rows],
                target=target,
                config=config.model_copy(update={"family": family}),
                trained_on=trained_on,
                data_sha256="cv",
                id_column=id_column,
            )
            fold_measures.append(measured(scorecard, frame[test_rows]))
    return {
        family: Metrics(
            auc=float(np.mean([m.auc for m in values])),
            ks=float(np.mean([m.ks for m in values])),
            gini=float(np.mean([m.gini for m in values])),
            sample="cross-validation",
        )
        for family, values in measures.items()
    }


def train_scorecard(
    frame: pl.DataFrame,
    *,
    target: str,
    config: TrainingConfig,
    trained_on: dt.date,
    data_sha256: str,
    id_column: str | None = None,
) -> Scorecard:
    """Train and freeze a scorecard from a frame holding the target and candidate columns.

    With a declared ``config.segment`` (or ``segment_search``) it is the segmented artifact
    when that cross-validates better than the pooled card, else the pooled card (the
    comparison is recorded).
    """
    if config.segment or config.segment_search:
        return train_segmented(
            frame,
            target=target,
            config=config,
            trained_on=trained_on,
            data_sha256=data_sha256,
            id_column=id_column,
        )
    return train_card(
        frame,
        target=target,
        config=config,
        trained_on=trained_on,
        data_sha256=data_sha256,
        id_column=id_column,
    )


def segment_values(
    frame: pl.DataFrame, bad: pl.Series, config: TrainingConfig, column: str
) -> tuple[list[str], dict[str, str]]:
    """The segment values large enough for a card of their own, and a note on the others."""
    if column not in frame.columns:
        raise InvalidInput(
            f"segment column {column!r} is not in the data", field="segment", code="column_exists"
        )
    counts = (
        frame.select(category_expr(column, frame.schema[column]).alias("value"), bad.alias("bad"))
        .drop_nulls("value")
        .group_by("value")
        .agg(pl.len().alias("rows"), pl.col("bad").sum().alias("bads"))
        .sort("rows", descending=True)
    )
    large = (pl.col("rows") >= config.min_segment_rows) & (
        pl.col("bads") >= config.min_segment_bads
    )
    values = counts.filter(large)["value"].to_list()
    small = counts.filter(~large)["value"].to_list()
    notes = {}
    if small:
        shown = ", ".join(repr(v) for v in small[:5]) + (
            f" and {len(small) - 5} more" if len(small) > 5 else ""
        )
        notes[f"segment {column}"] = (
            f"{shown} below {config.min_segment_rows} rows or {config.min_segment_bads} bad: "
            "scored by the pooled card"
        )
    return values, notes


def category_iv(frame: pl.DataFrame, bad: pl.Series, column: str) -> float:
    """Information value of a column's categories (missing as one more, half a row added)."""
    counts = (
        frame.select(category_expr(column, frame.schema[column]).alias("value"), bad.alias("bad"))
        .group_by("value")
        .agg(pl.col("bad").sum().alias("bad"), (1 - pl.col("bad")).sum().alias("good"))
    )
    bads = counts["bad"].to_numpy() + 0.5
    goods = counts["good"].to_numpy() + 0.5
    bad_share, good_share = bads / bads.sum(), goods / goods.sum()
    return float(np.sum((good_share - bad_share) * np.log(good_share / bad_share)))


def segment_columns(
    frame: pl.DataFrame,
    bad: pl.Series,
    config: TrainingConfig,
    *,
    target: str,
    id_column: str | None,
) -> list[str]:
    """The declared segment column, or the searched candidates: categorical columns with 2 to
    ``MAX_SEARCHED_SEGMENTS`` values large enough for a card, highest information value first.
    """
    if config.segment:
        return [config.segment]
    kinds = detect_columns(frame, target=target, id_column=id_column, config=config).kinds
    eligible = [
        name
        for name, kind in kinds.items()
        if kind == "categorical"
        and 2 <= len(segment_values(frame, bad, config, name)[0]) <= MAX_SEARCHED_SEGMENTS
    ]
    ranked = sorted(eligible, key=lambda name: -category_iv(frame, bad, name))
    return ranked[: config.segment_candidates]


def _segment_card_config(config: TrainingConfig, pooled: Scorecard) -> TrainingConfig:
    """A segment card's settings: the pooled card's family, inputs and pairs.

    Taking the pooled card's derived columns and pairs (rather than generating and detecting
    its own on fewer rows) keeps a blend of the two within the card's term limit; on HMEQ it
    cross-validated the same as the segment's own (0.9648 against 0.9645 on one fold).
    """
    pairs = [(i.axes[0].name, i.axes[1].name) for i in pooled.interactions]
    return config.model_copy(
        update={
            "segment": None,
            "segment_search": False,
            "family": pooled.training.family,
            "generate": False,
            "derived": pooled.derived,
            "interaction_pairs": pairs,
            "max_interactions": len(pairs),
        }
    )


def segment_cards(
    frame: pl.DataFrame,
    pooled: Scorecard,
    values: list[str],
    *,
    column: str,
    target: str,
    config: TrainingConfig,
    trained_on: dt.date,
    id_column: str | None,
) -> list[Segment]:
    """One card per segment value, each trained on that value's rows alone."""
    card_config = _segment_card_config(config, pooled)
    routed = category_expr(column, frame.schema[column])
    return [
        Segment(
            name=f"{column}={value}",
            values=[value],
            scorecard=train_card(
                frame.filter(routed == value),
                target=target,
                config=card_config.model_copy(update={"name": f"{config.name}-{column}-{value}"}),
                trained_on=trained_on,
                data_sha256=pooled.training.data_sha256,
                id_column=id_column,
            ),
        )
        for value in values
    ]


def segmented_artifact(
    frame: pl.DataFrame,
    pooled: Scorecard,
    segments: list[Segment],
    *,
    column: str,
    weight: float,
    config: TrainingConfig,
    trained_on: dt.date,
) -> Scorecard:
    """The pooled card routing each segment's rows to that segment's card.

    With ``weight`` below 1 every segment's card is blended with the pooled card into one
    card (``weight`` of the segment's points, the rest the pooled card's): a pooled prior.
    """
    if weight < 1:
        routed = category_expr(column, frame.schema[column])
        segments = [
            segment.model_copy(
                update={
                    "scorecard": _blended_card(
                        segment.scorecard,
                        pooled,
                        weight,
                        frame.filter(routed.is_in(segment.values)),
                        trained_on=trained_on,
                    )
                }
            )
            for segment in segments
        ]
    return pooled.model_copy(
        update={
            "segment_column": column,
            "segments": segments,
            "version": _version(config.name, trained_on, [pooled, *segments]),
        }
    )


def _blended_card(
    card: Scorecard,
    pooled: Scorecard,
    weight: float,
    rows: pl.DataFrame,
    *,
    trained_on: dt.date,
) -> Scorecard:
    """``weight`` of a segment's card and the rest of the pooled card, frozen into one card
    with its own version and its training metrics on the segment's ``rows``."""
    from limitwise.scoring.blend import average_cards

    blended = average_cards([card, pooled], [weight, 1 - weight])
    terms = [*blended.derived, *blended.characteristics, *blended.interactions]
    return _with_training_scores(
        blended.model_copy(update={"version": _version(card.name, trained_on, terms)}),
        rows,
        pooled_weight=1 - weight,
    )


def train_segmented(
    frame: pl.DataFrame,
    *,
    target: str,
    config: TrainingConfig,
    trained_on: dt.date,
    data_sha256: str,
    id_column: str | None,
) -> Scorecard:
    """The segmented artifact or the pooled card, whichever cross-validates better.

    Every candidate segment column, with every ``segment_weights`` blend of its cards and the
    pooled card, is compared on the same folds, against the same pooled fold cards; the best
    one is kept when it beats the pooled card.
    """
    from sklearn.model_selection import StratifiedKFold

    bad, _label = encode_target(frame, target, config.bad_values)
    plans = {
        column: segment_values(frame, bad, config, column)
        for column in segment_columns(frame, bad, config, target=target, id_column=id_column)
    }
    pooled_config = config.model_copy(update={"segment": None, "segment_search": False})
    pooled = train_card(
        frame,
        target=target,
        config=pooled_config,
        trained_on=trained_on,
        data_sha256=data_sha256,
        id_column=id_column,
    )
    common: dict[str, Any] = {"target": target, "trained_on": trained_on, "id_column": id_column}
    routable = {column: values for column, (values, _notes) in plans.items() if values}
    if not routable:
        notes = {k: v for _values, column_notes in plans.values() for k, v in column_notes.items()}
        if not plans:
            notes["segment search"] = (
                f"no categorical column has 2 to {MAX_SEARCHED_SEGMENTS} values of "
                f"{config.min_segment_rows} rows and {config.min_segment_bads} bad: not segmented"
            )
        return _with_segment_summary(pooled, frame, notes, {})
    fixed = pooled_config.model_copy(update={"family": pooled.training.family})
    options = [(column, weight) for column in routable for weight in config.segment_weights]
    aucs: dict[str, list[float]] = {name: [] for name in ["pooled", *map(_segmented, options)]}
    splitter = StratifiedKFold(n_splits=config.cv_folds, shuffle=True, random_state=0)
    for train_rows, test_rows in splitter.split(np.zeros(frame.height), bad.to_numpy()):
        fold_pooled = train_card(frame[train_rows], config=fixed, data_sha256="cv", **common)
        aucs["pooled"].append(measured(fold_pooled, frame[test_rows]).auc)
        for column, values in routable.items():
            cards = segment_cards(
                frame[train_rows], fold_pooled, values, column=column, config=config, **common
            )
            for weight in config.segment_weights:
                fold_segmented = segmented_artifact(
                    frame[train_rows],
                    fold_pooled,
                    cards,
                    column=column,
                    weight=weight,
                    config=config,
                    trained_on=trained_on,
                )
                aucs[_segmented((column, weight))].append(
                    measured(fold_segmented, frame[test_rows]).auc
                )
    compared = {name: float(np.mean(fold_aucs)) for name, fold_aucs in aucs.items()}
    best = max(options, key=lambda option: compared[_segmented(option)])
    column, weight = best
    if compared[_segmented(best)] > compared["pooled"]:
        cards = segment_cards(
            frame, pooled, routable[column], column=column, config=config, **common
        )
        artifact = segmented_artifact(
            frame, pooled, cards, column=column, weight=weight, config=config, trained_on=trained_on
        )
        return _with_segment_summary(artifact, frame, plans[column][1], compared)
    shown = ", ".join(f"{name} {auc:.4f}" for name, auc in compared.items())
    notes = {
        f"segment {column}" if config.segment else "segment search": (
            f"segmented cards do not cross-validate above the pooled card ({shown}): "
            "the pooled card is kept"
        )
    }
    return _with_segment_summary(pooled, frame, plans[column][1] | notes, compared)


def _segmented(option: tuple[str, float]) -> str:
    """The ``segment_cv_auc`` key of the cards segmented by a column, blended by a weight."""
    column, weight = option
    if weight == 1:
        return f"segmented by {column}"
    return f"segmented by {column}, {weight:g} own card + {1 - weight:g} pooled"


def _with_training_scores(card: Scorecard, frame: pl.DataFrame, **training: Any) -> Scorecard:
    """A card with its training score distribution and metrics measured on ``frame``."""
    scores = score_frame(card, frame)["score"]
    bad, _label = encode_target(frame, card.training.target, card.training.bad_values)
    area = metrics.auc(scores, bad)
    return card.model_copy(
        update={
            "training": card.training.model_copy(
                update={"score_distribution": metrics.score_distribution(scores), **training}
            ),
            "metrics": Metrics(auc=area, ks=metrics.ks(scores, bad), gini=2 * area - 1),
        }
    )


def _with_segment_summary(
    artifact: Scorecard, frame: pl.DataFrame, notes: dict[str, str], compared: dict[str, float]
) -> Scorecard:
    """Record the segmentation notes and comparison; training metrics of the whole artifact."""
    return _with_training_scores(
        artifact,
        frame,
        dropped=artifact.training.dropped | notes,
        segment_cv_auc=compared,
    )


def train_card(
    frame: pl.DataFrame,
    *,
    target: str,
    config: TrainingConfig,
    trained_on: dt.date,
    data_sha256: str,
    id_column: str | None = None,
) -> Scorecard:
    """Train and freeze one (unsegmented) card."""
    bad, bad_label = encode_target(frame, target, config.bad_values)
    if frame.height < MIN_ROWS:
        raise InvalidInput(
            f"{frame.height} rows are too few to train on (need {MIN_ROWS})",
            field="data",
            code="min_rows",
        )
    selection: dict[str, float] = {}
    family: Family = "interactions" if config.family == "interactions" else "scorecard"
    if config.family == "auto":
        compared = cross_validated(
            frame,
            target=target,
            config=config,
            id_column=id_column,
            trained_on=trained_on,
            folds=config.cv_folds,
            families=("scorecard", "interactions"),
        )
        selection = {name: m.auc for name, m in compared.items()}
        family = max(compared, key=lambda name: compared[name].auc)
    frame = add_derived(frame, config.derived)
    candidates: Candidates = detect_columns(
        frame, target=target, id_column=id_column, config=config
    )
    y = bad.to_numpy()
    generated: list[DerivedColumn] = []
    generation_notes: dict[str, str] = {}
    if config.generate:
        from limitwise.scoring.generate import generate_characteristics

        generated, generation_notes = generate_characteristics(frame, y, candidates.kinds, config)
        frame = frame.with_columns(derived_expr(d, frame.schema) for d in generated)
        candidates = Candidates(
            kinds=candidates.kinds | {d.name: "numeric" for d in generated},
            dropped=candidates.dropped,
        )
    x = training_matrix(frame, candidates.kinds)
    with warnings.catch_warnings():
        # optbinning's own pandas deprecation notices are not the analyst's concern.
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=UserWarning)
        characteristics, interactions, dropped = fit_terms(x, y, candidates.kinds, config, family)
    terms: list[Term] = [*characteristics, *interactions]
    used = {name for term in terms for name in term_inputs(term)}
    derived = [d for d in [*config.derived, *generated] if d.name in used]
    draft = Scorecard(
        name=config.name,
        purpose=config.purpose,
        version=_version(config.name, trained_on, [*derived, *characteristics, *interactions]),
        trained_on=trained_on,
        limitwise_version=__version__,
        scaling=config.scaling,
        derived=derived,
        characteristics=characteristics,
        interactions=interactions,
        training=TrainingSummary(
            data_sha256=data_sha256,
            rows=frame.height,
            bad_rate=float(y.mean()),
            target=target,
            bad_values=[bad_label],
            id_column=id_column,
            dropped=candidates.dropped | generation_notes | dropped,
            score_distribution=metrics.score_distribution(pl.Series([0.0, 1.0])),
            family=family,
            cv_auc=selection,
        ),
        metrics=Metrics(auc=0.0, ks=0.0, gini=0.0),
    )
    return _with_training_scores(draft, frame)
