"""Generated characteristics: found from the columns, kept on held-out IV, served identically."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limitwise.scoring.schemas import DerivedColumn, TrainingConfig
from limitwise.scoring.serve import derive_value, derived_expr, score_frame, score_rows

TARGET = "bad"


def make_book(rows: int = 3000, seed: int = 3) -> pl.DataFrame:
    """Risk lives in balance / limit and in the months late among pay_1..pay_6, not in any
    one column; ``savings`` and ``rent`` are noise amounts."""
    rng = np.random.default_rng(seed)
    limit = np.round(np.exp(rng.normal(9, 0.6, rows)))
    balance = np.round(limit * rng.beta(2, 3, rows) * 1.1)
    late = rng.random((rows, 6)) < rng.beta(1, 8, rows)[:, None]
    logit = -2.0 + 3.0 * (balance / limit - 0.45) + 0.9 * (late.sum(axis=1) - 0.7)
    columns = {f"pay_{k + 1}": late[:, k].astype(int) * rng.integers(1, 3, rows) for k in range(6)}
    return pl.DataFrame(
        {
            "balance": balance,
            "limit": limit,
            "savings": np.round(np.exp(rng.normal(8, 1, rows))),
            "rent": np.round(np.exp(rng.normal(7, 0.3, rows))),
            **columns,
            TARGET: (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


def test_generation_finds_the_ratio_and_the_count_and_leaves_noise_out():
    from limitwise.scoring.data import detect_columns
    from limitwise.scoring.generate import generate_characteristics

    book = make_book()
    config = TrainingConfig(generate=True)
    kinds = detect_columns(book, target=TARGET, id_column=None, config=config).kinds
    kept, notes = generate_characteristics(book, book[TARGET].to_numpy(), kinds, config)
    names = {d.name for d in kept}
    assert {"balance_per_limit", "pay_count_positive"} <= names
    assert not {"savings_per_rent", "rent_per_savings", "savings_minus_rent"} & names
    assert "held-out IV gain" in notes.get("savings_per_rent", notes.get("rent_per_savings", ""))


def test_generated_characteristics_are_carried_and_recomputed_at_serving():
    from limitwise.scoring.train import train_scorecard

    train, test = make_book(), make_book(1000, seed=8)
    common = {"target": TARGET, "trained_on": dt.date(2026, 12, 2), "data_sha256": "0" * 64}
    plain = train_scorecard(train, config=TrainingConfig(), **common)  # type: ignore[arg-type]
    generated = train_scorecard(train, config=TrainingConfig(generate=True), **common)  # type: ignore[arg-type]
    derived = {d.name for d in generated.derived}
    assert "balance_per_limit" in derived
    assert derived <= {c.name for c in generated.characteristics}
    assert score_frame(generated, test).equals(score_rows(generated, test))
    # Serving needs only the raw columns: the derived ones are recomputed from them.
    assert "balance_per_limit" not in test.columns
    from limitwise.scoring.train import measured

    assert measured(generated, test).auc > measured(plain, test).auc + 0.01


numbers = st.one_of(st.none(), st.floats(-1e6, 1e6), st.sampled_from([0.0, -0.0, 1.0]))


@settings(max_examples=40, deadline=None)
@given(
    op=st.sampled_from(["difference", "count_positive", "slope", "ratio"]),
    rows=st.lists(st.tuples(numbers, numbers, numbers), min_size=1, max_size=15),
)
def test_new_derived_ops_agree_row_wise_and_in_polars(op, rows):
    columns = ["a", "b"] if op in ("difference", "ratio") else ["a", "b", "c"]
    derived = DerivedColumn(name="d", op=op, columns=columns)
    frame = pl.DataFrame(rows, schema=["a", "b", "c"], orient="row")
    vectorised = frame.select(derived_expr(derived, frame.schema)).to_series().to_list()
    assert vectorised == [derive_value(derived, row) for row in frame.iter_rows(named=True)]


def test_slope_and_count_follow_their_definitions():
    row = {"a": 1.0, "b": 0.0, "c": 5.0}
    slope = DerivedColumn(name="s", op="slope", columns=["a", "b", "c"])
    count = DerivedColumn(name="n", op="count_positive", columns=["a", "b", "c"])
    assert derive_value(slope, row) == pytest.approx(np.polyfit([0, 1, 2], [1.0, 0.0, 5.0], 1)[0])
    assert derive_value(count, row) == 2.0
    assert derive_value(count, {**row, "b": None}) is None
