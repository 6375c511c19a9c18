"""A small synthetic application data set and one scorecard trained on it per session."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from limitwise.scoring.schemas import Scorecard, TrainingConfig

TARGET = "defaulted"


def make_applications(rows: int = 3000, seed: int = 11) -> pl.DataFrame:
    """Applicants whose default depends on utilisation, income, age and housing."""
    rng = np.random.default_rng(seed)
    utilisation = rng.beta(2, 3, rows) * 1.2
    income = np.exp(rng.normal(8.5, 0.5, rows))
    age = rng.integers(21, 70, rows)
    housing = rng.choice(["rent", "own", "mortgage", "family"], rows, p=[0.4, 0.25, 0.3, 0.05])
    logit = -2.2 + 2.5 * utilisation - 0.8 * (np.log(income) - 8.5) - 0.03 * (age - 40)
    logit += np.where(housing == "rent", 0.5, 0.0)
    defaulted = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    income_with_gaps = np.where(rng.random(rows) < 0.1, np.nan, np.round(income))
    housing_with_gaps = np.where(rng.random(rows) < 0.05, None, housing)
    return pl.DataFrame(
        {
            "applicant": [f"P{i:05d}" for i in range(rows)],
            "utilisation_pct": [f"{u * 100:.1f}%" for u in utilisation],
            "monthly_income": income_with_gaps,
            "age": age,
            "housing": list(housing_with_gaps),
            TARGET: defaulted,
        },
        strict=False,
    ).with_columns(pl.col("monthly_income").fill_nan(None))


@pytest.fixture(scope="session")
def applications() -> pl.DataFrame:
    return make_applications()


@pytest.fixture(scope="session")
def scorecard(applications: pl.DataFrame) -> Scorecard:
    from limitwise.scoring.train import train_scorecard

    return train_scorecard(
        applications,
        target=TARGET,
        config=TrainingConfig(name="test", min_iv=0.0),
        trained_on=dt.date(2026, 11, 23),
        data_sha256="0" * 64,
        id_column="applicant",
    )
