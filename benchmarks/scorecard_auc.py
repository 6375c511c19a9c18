"""Interpretable scorecards against LightGBM, an EBM and a plain logistic regression.

    PYTHONPATH=src python benchmarks/scorecard_auc.py [--folds 5] [--datasets hmeq,gmc,lc,german]
        [--rows N] [--jobs 2]

For every data set in ../shared/data (skipped with a note when absent), with no per-data-set
configuration (only where the file is and which column is the target): stratified k-fold CV
on the same folds for

* ``scorecard``: ``TrainingConfig()`` exactly (the WoE scorecard, no generated features);
* ``interactions``: the interaction model frozen into points tables, with generated
  characteristics (``family="interactions"``, ``generate=True``), scored from the artifact;
* ``segmented``: the same with ``segment_search=True``: the two categorical columns of highest
  information value with 2 to 4 large values are tried as segment columns, each segment's
  card alone and blended with the pooled card (weights 1, 0.75, 0.5), by an inner 2-fold CV
  on the training rows (``cv_folds=2`` for every data set: fewer trainings, on half the rows
  each, than the default 3), and the best kept when it beats the pooled card;
* ``ebm``: interpretml's EBM itself on the raw columns (same settings as ``interactions``);
* ``lightgbm`` (300 trees, learning rate 0.05, 31 leaves) and ``logistic`` (median-imputed,
  standardised, categories one-hot) on the raw columns.

Each line gives mean ± sd held-out AUC and the mean training seconds per fold; then each
model's AUC as a ratio to LightGBM's and the best interpretable artifact's gap to it.
``--rows N`` subsamples a larger data set (stratified, seeded) to N rows, said in the output.
``--jobs 2`` runs two data sets at a time, one process each (every model single-threaded,
LightGBM too), so the seconds compare within a data set's lines, not across data sets.
Finally the scoring throughput of the shipped application scorecard: row by row against
vectorised polars.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from limitwise.scoring import metrics
from limitwise.scoring.artifact import default_scorecard
from limitwise.scoring.data import detect_columns, encode_target, read_csv
from limitwise.scoring.interactions import fit_ebm
from limitwise.scoring.schemas import Purpose, Scorecard, TrainingConfig
from limitwise.scoring.serve import score_frame, score_rows
from limitwise.scoring.train import train_scorecard, training_matrix

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
VARIANTS = {
    "scorecard": TrainingConfig(),
    "interactions": TrainingConfig(family="interactions", generate=True),
    "segmented": TrainingConfig(
        family="interactions", generate=True, segment_search=True, cv_folds=2
    ),
}
INTERPRETABLE = tuple(VARIANTS)
DATASETS: dict[str, tuple[str, str, str | None]] = {
    "gmc": ("give-me-some-credit/cs-training.csv", "SeriousDlqin2yrs", "column_1"),
    "german": ("german-credit/germancredit.csv", "creditability", None),
    "hmeq": ("hmeq/hmeq.csv", "BAD", None),
    "lc": ("lending-club-2007-2011-subset/LoanStats3a.csv", "loan_status", None),
}


def baselines(
    train: Any, test: Any, y_train: Any, kinds: dict[str, str]
) -> dict[str, tuple[Any, float]]:
    """Held-out bad probabilities and training seconds of the reference models."""
    import lightgbm
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [n for n, k in kinds.items() if k == "numeric"]
    categorical = [n for n, k in kinds.items() if k == "categorical"]
    lgb_train, lgb_test = train.copy(), test.copy()
    for name in categorical:
        categories = sorted({str(v) for v in train[name].dropna()})
        for frame in (lgb_train, lgb_test):
            frame[name] = frame[name].astype("category").cat.set_categories(categories)
    results: dict[str, tuple[Any, float]] = {}
    started = time.perf_counter()
    booster = lightgbm.LGBMClassifier(
        n_estimators=300,
        learning_rate=0.05,
        num_leaves=31,
        verbose=-1,
        random_state=0,
        n_jobs=1,
    )
    booster.fit(lgb_train, y_train)
    results["lightgbm"] = (booster.predict_proba(lgb_test)[:, 1], time.perf_counter() - started)
    started = time.perf_counter()
    ebm = fit_ebm(train, y_train, kinds, VARIANTS["interactions"])
    results["ebm"] = (ebm.predict_proba(test)[:, 1], time.perf_counter() - started)
    started = time.perf_counter()
    plain = make_pipeline(
        ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
                (
                    "cat",
                    make_pipeline(
                        SimpleImputer(strategy="constant", fill_value="(missing)"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    categorical,
                ),
            ]
        ),
        LogisticRegression(max_iter=2000),
    )
    plain.fit(train, y_train)
    results["logistic"] = (plain.predict_proba(test)[:, 1], time.perf_counter() - started)
    return results


def subsample(frame: pl.DataFrame, bad: pl.Series, rows: int) -> pl.DataFrame:
    """A stratified, seeded subsample of ``rows`` rows (the frame itself when smaller)."""
    if frame.height <= rows:
        return frame
    from sklearn.model_selection import train_test_split

    kept, _rest = train_test_split(
        np.arange(frame.height), train_size=rows, stratify=bad.to_numpy(), random_state=42
    )
    return frame[np.sort(kept)]


def progress(name: str, model: str, auc: float, seconds: float) -> None:
    """One fold's result on stderr, so a long run can be followed."""
    print(f"{time.strftime('%H:%M:%S')} {name} {model} {auc:.4f} {seconds:.1f} s", file=sys.stderr)
    sys.stderr.flush()


def segment_choice(scorecard: Scorecard) -> str:
    """The segment column an artifact routes by, and its blend with the pooled card."""
    if not scorecard.segments:
        return "pooled"
    pooled = scorecard.segments[0].scorecard.training.pooled_weight
    blend = f" ({1 - pooled:g} own + {pooled:g} pooled)" if pooled else ""
    return f"{scorecard.segment_column}{blend}"


def cross_validate(name: str, folds: int, rows: int | None) -> str:
    """The data set's report: one line per model, then the choices and the best gap."""
    from sklearn.model_selection import StratifiedKFold

    relative, target, id_column = DATASETS[name]
    path = DATA / relative
    if not path.is_file():
        return f"{name}: skipped ({path} not found)"
    started_run = time.perf_counter()
    frame = read_csv(path)
    full_rows = frame.height
    if rows is not None:
        frame = subsample(frame, encode_target(frame, target, [])[0], rows)
    bad, _label = encode_target(frame, target, [])
    kinds = detect_columns(frame, target=target, id_column=id_column, config=TrainingConfig()).kinds
    x = training_matrix(frame, kinds)
    y = bad.to_numpy()
    models = [*VARIANTS, "ebm", "lightgbm", "logistic"]
    aucs: dict[str, list[float]] = {m: [] for m in models}
    seconds: dict[str, list[float]] = {m: [] for m in models}
    chosen: list[str] = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
    for train_rows, test_rows in splitter.split(np.zeros(len(y)), y):
        test_bad = bad[test_rows]
        for variant, config in VARIANTS.items():
            started = time.perf_counter()
            scorecard = train_scorecard(
                frame[train_rows],
                target=target,
                config=config,
                trained_on=dt.date(2026, 12, 2),
                data_sha256="cv",
                id_column=id_column,
            )
            seconds[variant].append(time.perf_counter() - started)
            if config.segment_search:
                chosen.append(segment_choice(scorecard))
            scores = score_frame(scorecard, frame[test_rows])["score"]
            aucs[variant].append(metrics.auc(scores, test_bad))
            progress(name, variant, aucs[variant][-1], seconds[variant][-1])
        references = baselines(x.iloc[train_rows], x.iloc[test_rows], y[train_rows], kinds)
        for model, (probability, fit_seconds) in references.items():
            # metrics.auc ranks "higher is safer", so pass the negated bad probability.
            aucs[model].append(metrics.auc(pl.Series(-probability), test_bad))
            seconds[model].append(fit_seconds)
            progress(name, model, aucs[model][-1], fit_seconds)
    sample = f"{len(y)} of {full_rows} rows" if len(y) < full_rows else f"{len(y)} rows"
    minutes = (time.perf_counter() - started_run) / 60
    lines = [f"{name} ({sample}, {folds}-fold held-out AUC, mean training s per fold):"]
    lightgbm = statistics.mean(aucs["lightgbm"])
    for model in models:
        mean = statistics.mean(aucs[model])
        lines.append(
            f"  {model:<14} {mean:.4f} ± {statistics.stdev(aucs[model]):.4f}"
            f"  {statistics.mean(seconds[model]):7.1f} s  AUC/LightGBM {mean / lightgbm:.4f}"
        )
    lines.append(f"  segment column chosen per fold: {', '.join(chosen)}")
    best = max(INTERPRETABLE, key=lambda m: statistics.mean(aucs[m]))
    gap = statistics.mean(aucs[best]) - lightgbm
    lines.append(f"  best interpretable artifact: {best}, {gap:+.4f} AUC against LightGBM")
    lines.append(f"  ({minutes:.1f} min for this data set)")
    return "\n".join(lines)


def throughput() -> None:
    scorecard = default_scorecard(Purpose.APPLICATION)
    path = DATA / DATASETS["gmc"][0]
    if path.is_file():
        frame = read_csv(path)
    else:
        rng = np.random.default_rng(0)
        frame = pl.DataFrame(
            {c.name: rng.normal(size=150_000) * 10 for c in scorecard.characteristics}
        )
    sample = frame.head(20_000)
    started = time.perf_counter()
    score_rows(scorecard, sample)
    rows_per_s = sample.height / (time.perf_counter() - started)
    started = time.perf_counter()
    score_frame(scorecard, frame)
    polars_per_s = frame.height / (time.perf_counter() - started)
    print(
        f"scoring throughput: row-wise {rows_per_s:,.0f} rows/s, polars {polars_per_s:,.0f} rows/s"
        f" -> polars/row-wise ratio {polars_per_s / rows_per_s:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    # HMEQ (the closest gap) and the largest first; two processes take them in this order.
    parser.add_argument("--datasets", default="hmeq,gmc,lc,german")
    parser.add_argument("--rows", type=int, default=None, help="subsample larger data sets")
    parser.add_argument("--jobs", type=int, default=2, help="data sets run at a time")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"load average at the start: {os.getloadavg()[0]:.1f}", flush=True)
    names = args.datasets.split(",")
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        reports = [pool.submit(cross_validate, n, args.folds, args.rows) for n in names]
        for report in as_completed(reports):
            error = report.exception()
            print(report.result() if error is None else f"a data set failed: {error!r}", flush=True)
    throughput()
    print(
        f"whole run {(time.perf_counter() - started) / 60:.1f} min, "
        f"load average at the end: {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
