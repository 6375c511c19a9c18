import datetime as dt

import polars as pl
import pytest

from limitwise.kit.errors import InvalidRequest
from limitwise.scoring.schemas import DerivedColumn, TrainingConfig
from limitwise.scoring.serve import derive_value, input_columns, score_frame, score_rows
from limitwise.scoring.train import train_scorecard

from .conftest import TARGET, make_applications

DERIVED = [
    DerivedColumn(name="income_per_year_of_age", op="ratio", columns=["monthly_income", "age"]),
    DerivedColumn(name="age_plus_util", op="sum", columns=["age", "utilisation_pct"]),
]


def train(frame, derived):
    return train_scorecard(
        frame,
        target=TARGET,
        config=TrainingConfig(name="derived", min_iv=0.0, max_correlation=1.0, derived=derived),
        trained_on=dt.date(2026, 11, 23),
        data_sha256="0" * 64,
        id_column="applicant",
    )


def test_derived_characteristics_are_trained_and_served_identically():
    frame = make_applications(1500, seed=21)
    scorecard = train(frame, DERIVED)
    names = {c.name for c in scorecard.characteristics}
    assert "income_per_year_of_age" in names
    assert {d.name for d in scorecard.derived} <= names
    assert "income_per_year_of_age" not in input_columns(scorecard)
    assert {"monthly_income", "age"} <= set(input_columns(scorecard))
    odd = frame.head(3).with_columns(
        monthly_income=pl.Series([None, 5000.0, 100.0]), age=pl.Series([30, 0, None])
    )
    both = pl.concat([frame, odd], how="vertical_relaxed")
    polars_scored = score_frame(scorecard, both)
    assert polars_scored.equals(score_rows(scorecard, both))
    assert "income_per_year_of_age" not in polars_scored.columns


def test_derived_values_propagate_missing_and_zero_divisors():
    ratio, total = DERIVED
    assert derive_value(ratio, {"monthly_income": 100, "age": 0}) is None
    assert derive_value(ratio, {"monthly_income": None, "age": 20}) is None
    assert derive_value(ratio, {"monthly_income": 100, "age": 20}) == 5.0
    assert derive_value(total, {"age": 20, "utilisation_pct": "35.5%"}) == 55.5


def test_derived_columns_must_exist_and_not_clash():
    frame = make_applications(200)
    with pytest.raises(InvalidRequest) as error:
        train(frame, [DerivedColumn(name="age", op="sum", columns=["age", "nope"])])
    assert {p.rule for p in error.value.problems} == {"column_exists", "name_free"}
    with pytest.raises(ValueError):
        DerivedColumn(name="r", op="ratio", columns=["a", "b", "c"])
