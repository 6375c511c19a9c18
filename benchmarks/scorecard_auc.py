"""Scorecard AUC against LightGBM and a plain logistic regression, same folds, same run.

    PYTHONPATH=src python benchmarks/scorecard_auc.py [--folds 5] [--datasets gmc,german,hmeq]

(``--datasets lc`` adds the Lending Club subset, target "Charged Off".)

For each data set in ../shared/data (skipped with a note when absent): stratified k-fold CV,
the limitwise scorecard trained with default settings (exactly what ``score train`` does;
on Give Me Some Credit also with the shipped configuration's derived characteristics),
LightGBM (300 trees, learning rate 0.05, 31 leaves) and a logistic regression on raw
features (median-imputed, standardised; categories one-hot). Then scoring throughput of the
shipped application scorecard: row by row against vectorised polars.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from limitwise.scoring import metrics
from limitwise.scoring.artifact import DEFAULTS_DIR, default_scorecard
from limitwise.scoring.data import detect_columns, encode_target, load_training_config, read_csv
from limitwise.scoring.schemas import Purpose, TrainingConfig
from limitwise.scoring.serve import score_frame, score_rows
from limitwise.scoring.train import train_scorecard, training_matrix

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DATASETS: dict[str, tuple[str, str, str | None]] = {
    "gmc": ("give-me-some-credit/cs-training.csv", "SeriousDlqin2yrs", "column_1"),
    "german": ("german-credit/germancredit.csv", "creditability", None),
    "hmeq": ("hmeq/hmeq.csv", "BAD", None),
    "lc": ("lending-club-2007-2011-subset/LoanStats3a.csv", "loan_status", None),
}


def baselines(train: Any, test: Any, y_train: Any, kinds: dict[str, str]) -> dict[str, Any]:
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
    booster = lightgbm.LGBMClassifier(
        n_estimators=300, learning_rate=0.05, num_leaves=31, verbose=-1, random_state=0
    )
    booster.fit(lgb_train, y_train)
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
    return {
        "lightgbm": booster.predict_proba(lgb_test)[:, 1],
        "logistic": plain.predict_proba(test)[:, 1],
    }


def cross_validate(name: str, folds: int) -> None:
    from sklearn.model_selection import StratifiedKFold

    relative, target, id_column = DATASETS[name]
    path = DATA / relative
    if not path.is_file():
        print(f"{name}: skipped ({path} not found)")
        return
    frame = read_csv(path)
    config = TrainingConfig()
    # The shipped application scorecard's configuration adds derived characteristics.
    variants = {"scorecard": config}
    if name == "gmc":
        variants["scorecard+derived"] = load_training_config(DEFAULTS_DIR / "application.yaml")
    bad, _label = encode_target(frame, target, [])
    kinds = detect_columns(frame, target=target, id_column=id_column, config=config).kinds
    x = training_matrix(frame, kinds)
    y = bad.to_numpy()
    aucs: dict[str, list[float]] = {v: [] for v in variants} | {"lightgbm": [], "logistic": []}
    started = time.perf_counter()
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
    for train_rows, test_rows in splitter.split(np.zeros(len(y)), y):
        test_bad = bad[test_rows]
        for variant, variant_config in variants.items():
            scorecard = train_scorecard(
                frame[train_rows],
                target=target,
                config=variant_config,
                trained_on=dt.date(2026, 11, 23),
                data_sha256="cv",
                id_column=id_column,
            )
            aucs[variant].append(
                metrics.auc(score_frame(scorecard, frame[test_rows])["score"], test_bad)
            )
        predictions = baselines(x.iloc[train_rows], x.iloc[test_rows], y[train_rows], kinds)
        for model, probability in predictions.items():
            # metrics.auc ranks "higher is safer", so pass the negated bad probability.
            aucs[model].append(metrics.auc(pl.Series(-probability), test_bad))
    elapsed = time.perf_counter() - started
    summary = "  ".join(
        f"{model} {statistics.mean(v):.4f} ± {statistics.stdev(v):.4f}" for model, v in aucs.items()
    )
    print(f"{name} ({len(y)} rows, {folds}-fold AUC): {summary}")
    for variant in variants:
        ratio = statistics.mean(aucs[variant]) / statistics.mean(aucs["lightgbm"])
        print(f"{name}: {variant}/LightGBM AUC ratio {ratio:.4f}")
    print(f"{name}: {elapsed:.0f} s")


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
    parser.add_argument("--datasets", default="gmc,german,hmeq")
    args = parser.parse_args()
    for name in args.datasets.split(","):
        cross_validate(name, args.folds)
    throughput()


if __name__ == "__main__":
    main()
