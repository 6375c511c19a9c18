import datetime as dt

import polars as pl
import pytest

from limitwise.kit.errors import InvalidRequest
from limitwise.scoring.artifact import default_scorecard
from limitwise.scoring.behaviour import (
    BEHAVIOUR_FEATURES,
    OUTCOME,
    behaviour_training_config,
    score_accounts,
)
from limitwise.scoring.metrics import auc
from limitwise.scoring.schemas import Purpose
from limitwise.scoring.synthetic import bad_probability, generate_book


def test_book_is_reproducible_from_its_seed():
    assert generate_book(accounts=500, seed=3).equals(generate_book(accounts=500, seed=3))
    assert not generate_book(accounts=500, seed=3).equals(generate_book(accounts=500, seed=4))


def test_outcomes_follow_the_risk_model():
    book = generate_book(accounts=20_000, seed=1)
    probability = bad_probability(book)
    assert book[OUTCOME].mean() == pytest.approx(probability.mean(), abs=0.01)
    # Higher true risk means a lower "safety" ranking: AUC of -probability is well above 0.5.
    assert auc(-probability, book[OUTCOME]) > 0.75


def test_trained_behaviour_scorecard_points_follow_the_truth():
    from limitwise.scoring.train import train_scorecard

    book = generate_book(accounts=8_000, seed=5)
    scorecard = train_scorecard(
        book,
        target=OUTCOME,
        config=behaviour_training_config(),
        trained_on=dt.date(2026, 11, 23),
        data_sha256="0" * 64,
        id_column="account_id",
    )
    assert scorecard.purpose == Purpose.BEHAVIOUR
    for c in scorecard.characteristics:
        trend = BEHAVIOUR_FEATURES[c.name].trend
        ordered = c.points if trend == "ascending" else list(reversed(c.points))
        assert ordered == sorted(ordered, reverse=True), c.name  # more risk, fewer points
    assert scorecard.metrics.auc > 0.75


def test_shipped_behaviour_scorecard_scores_accounts():
    book = generate_book(accounts=2_000, seed=9)
    scored = score_accounts(book, lang="zh")
    assert scored["score"].null_count() == 0
    assert auc(scored["score"], book[OUTCOME]) > 0.7
    first = book.head(1)
    assert first["days_past_due_max_12m"][0] < 120  # so the worst case is strictly worse
    worst = score_accounts(
        first.with_columns(utilisation_now=pl.lit(1.3), days_past_due_max_12m=pl.lit(120))
    )
    assert worst["score"][0] < scored["score"][0]
    assert default_scorecard(Purpose.BEHAVIOUR).purpose == Purpose.BEHAVIOUR


def test_feature_frame_is_validated():
    book = generate_book(accounts=50, seed=2)
    with pytest.raises(InvalidRequest) as error:
        score_accounts(book.drop("months_active").with_columns(draws_last_30d=pl.lit(-1)))
    rules = {(p.field, p.rule) for p in error.value.problems}
    assert rules == {("months_active", "column_required"), ("draws_last_30d", "non_negative")}
