import math
import subprocess
import sys

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limitwise.kit.errors import InvalidInput, InvalidRequest
from limitwise.scoring.artifact import artifact_sha256, dump_scorecard, scorecard_from_json
from limitwise.scoring.serve import (
    as_number,
    characteristic_points,
    number_expr,
    score_frame,
    score_row,
    score_rows,
)

from .conftest import TARGET


def test_trained_scorecard_uses_every_informative_column(scorecard):
    names = {c.name for c in scorecard.characteristics}
    assert {"utilisation_pct", "monthly_income", "age", "housing"} <= names
    assert scorecard.characteristic("utilisation_pct").kind == "numeric"  # "45.2%" parsed
    assert scorecard.characteristic("housing").kind == "categorical"
    assert "applicant" not in names
    assert scorecard.metrics.auc > 0.7


def test_total_score_is_the_sum_of_characteristic_points(scorecard, applications):
    scored = score_frame(scorecard, applications, with_points=True)
    point_columns = [f"points__{c.name}" for c in scorecard.characteristics]
    summed = scored.select(pl.sum_horizontal(point_columns)).to_series()
    assert (scored["score"] == summed).all()
    assert scored["score"].n_unique() > 20
    # Row by row, each term's points must be what the polars engine gave that row (a second,
    # independent binning), and the total their sum: not a sum of the dict the code summed.
    head = scored.head(200)
    for index, row in enumerate(applications.head(200).iter_rows(named=True)):
        result = score_row(scorecard, row)
        polars_points = {name: head[f"points__{name}"][index] for name in result.points}
        assert result.points == polars_points
        assert result.score == sum(polars_points.values()) == head["score"][index]


def test_row_wise_and_polars_agree(scorecard, applications):
    odd = pl.DataFrame(
        {
            "applicant": ["X1", "X2", "X3", "X4"],
            "utilisation_pct": [None, "not a number", " 12.5% ", "250"],
            "monthly_income": [None, 0.0, float("nan"), 1e9],
            "age": [None, 18, 99, 40],
            "housing": ["boat", None, "own", "rent"],
            TARGET: [0, 1, 0, 1],
        },
        schema_overrides={"monthly_income": pl.Float64},
    )
    frame = pl.concat([applications, odd], how="vertical_relaxed")
    for lang in ("en", "zh"):
        assert score_frame(scorecard, frame, lang=lang).equals(
            score_rows(scorecard, frame, lang=lang)
        )


def test_reasons_are_the_largest_point_losses(scorecard, applications):
    scored = score_frame(scorecard, applications, with_points=True)
    chars = scorecard.characteristics
    for row in scored.head(500).iter_rows(named=True):
        losses = [
            (c.points_best - row[f"points__{c.name}"], i, c.code) for i, c in enumerate(chars)
        ]
        expected = [
            code for loss, _i, code in sorted(losses, key=lambda t: (-t[0], t[1])) if loss > 0
        ]
        got = [row[f"reason_{k}"] for k in range(1, 5) if row[f"reason_{k}"] is not None]
        assert got == expected[:4]
        # No characteristic left out costs more than the last reason given.
        if got:
            last_loss = next(loss for loss, _i, code in losses if code == got[-1])
            assert all(loss <= last_loss for loss, _i, code in losses if code not in got)


def test_best_row_has_no_reasons(scorecard):
    best = {}
    for c in scorecard.characteristics:
        assert c.points_best in (*c.points, c.points_missing, c.points_unknown)
    row = {c.name: None for c in scorecard.characteristics}
    for c in scorecard.characteristics:
        if c.points_missing == c.points_best:
            continue
        index = c.points.index(c.points_best)
        best[c.name] = (
            c.splits[index - 1]
            if c.kind == "numeric" and index
            else (c.splits[0] - 1 if c.kind == "numeric" else c.categories[index][0])
        )
    row.update(best)
    result = score_row(scorecard, row)
    assert result.reasons == []
    assert result.score == sum(c.points_best for c in scorecard.characteristics)


def test_missing_and_unknown_values_score_deterministically(scorecard):
    housing = scorecard.characteristic("housing")
    income = scorecard.characteristic("monthly_income")
    for missing in (None, float("nan")):
        assert characteristic_points(income, missing) == income.points_missing
        assert characteristic_points(housing, missing) == housing.points_missing
    assert characteristic_points(income, "n/a") == income.points_missing
    assert characteristic_points(housing, "yacht") == housing.points_unknown
    assert characteristic_points(housing, "Own") == housing.points_unknown  # case matters
    frame = pl.DataFrame(
        {"housing": ["yacht", None, "yacht"], "monthly_income": [None, None, None]},
        schema={"housing": pl.String, "monthly_income": pl.Float64},
    )
    points = score_frame(
        scorecard.model_copy(update={"characteristics": [housing, income]}), frame, with_points=True
    )
    assert points["points__housing"].to_list() == [
        housing.points_unknown,
        housing.points_missing,
        housing.points_unknown,
    ]
    assert set(points["points__monthly_income"]) == {income.points_missing}


def test_numeric_bins_are_left_closed(scorecard):
    age = scorecard.characteristic("age")
    split = age.splits[0]
    assert characteristic_points(age, split) == age.points[1]
    assert characteristic_points(age, math.nextafter(split, -math.inf)) == age.points[0]


def test_artifact_reproduces_optbinning_scores(scorecard, applications):
    from limitwise.scoring.data import detect_columns
    from limitwise.scoring.schemas import TrainingConfig
    from limitwise.scoring.train import fit_scorecard, training_matrix

    config = TrainingConfig(name="test", min_iv=0.0)
    kinds = detect_columns(applications, target=TARGET, id_column="applicant", config=config).kinds
    names = [c.name for c in scorecard.characteristics]
    x = training_matrix(applications, kinds)
    model, kept, _dropped = fit_scorecard(x, applications[TARGET].to_numpy(), names, kinds, config)
    assert kept == names
    ours = score_frame(scorecard, applications)["score"].to_list()
    assert ours == [int(s) for s in model.score(x[names])]


def test_artifact_round_trips_and_damage_is_refused(scorecard):
    text = dump_scorecard(scorecard)
    assert scorecard_from_json(text) == scorecard
    assert artifact_sha256(scorecard_from_json(text)) == artifact_sha256(scorecard)
    with pytest.raises(InvalidInput) as error:
        scorecard_from_json(text.replace('"points_missing"', '"points_lost"', 1))
    assert error.value.field == "model" and error.value.code == "scorecard_artifact"


def test_missing_input_column_is_refused(scorecard, applications):
    with pytest.raises(InvalidRequest) as error:
        score_frame(scorecard, applications.drop("age"))
    assert [(p.field, p.rule) for p in error.value.problems] == [("age", "column_required")]


def test_serving_needs_no_training_stack():
    code = (
        "import sys, polars as pl\n"
        "from limitwise.scoring.artifact import default_scorecard\n"
        "from limitwise.scoring.schemas import Purpose\n"
        "from limitwise.scoring.serve import input_columns, score_frame\n"
        "from limitwise.scoring.behaviour import score_accounts\n"
        "from limitwise.scoring import metrics, flows, service, cli\n"
        "sc = default_scorecard(Purpose.APPLICATION)\n"
        "frame = pl.DataFrame({name: [1.0] for name in input_columns(sc)})\n"
        "print(score_frame(sc, frame)['score'][0])\n"
        "bad = [m for m in ('optbinning', 'sklearn', 'lightgbm', 'pandas') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.none(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=4)
            ),
            st.one_of(st.none(), st.floats(-1e6, 1e6)),
            st.one_of(st.none(), st.integers(0, 120)),
            st.one_of(st.none(), st.sampled_from(["rent", "own", "mortgage", "family", "?"])),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_row_wise_and_polars_agree_on_arbitrary_values(scorecard, rows):
    frame = pl.DataFrame(
        {
            "utilisation_pct": [None if r[0] is None else str(r[0]) for r in rows],
            "monthly_income": [r[1] for r in rows],
            "age": [r[2] for r in rows],
            "housing": [r[3] for r in rows],
        },
        schema={
            "utilisation_pct": pl.String,
            "monthly_income": pl.Float64,
            "age": pl.Int64,
            "housing": pl.String,
        },
    )
    assert score_frame(scorecard, frame).equals(score_rows(scorecard, frame))


def test_a_missing_value_is_explained_as_not_provided(scorecard):
    income = scorecard.characteristic("monthly_income")
    assert income.points_missing < income.points_best  # missing income costs points
    row = {c.name: None for c in scorecard.characteristics}
    reasons = {r.characteristic: r for r in score_row(scorecard, row).reasons}
    assert reasons["monthly_income"].text_en == income.reason_missing.en
    assert reasons["monthly_income"].text_zh.startswith("未提供")
    frame = pl.DataFrame(
        [row],
        schema={
            "utilisation_pct": pl.String,
            "monthly_income": pl.Float64,
            "age": pl.Int64,
            "housing": pl.String,
        },
    )
    scored = score_frame(scorecard, frame, lang="zh")
    texts = [scored[f"reason_{k}_text"][0] for k in range(1, 5)]
    assert income.reason_missing.zh in texts


@pytest.mark.parametrize(
    "text",
    ["٠", "０", "1_000", " 5 %", "5 %%", "\u20005\u2000%", "1e2", "inf", "nan", "0x10", "", "%"],
)
def test_a_number_read_from_text_is_the_same_row_by_row_and_in_polars(text: str) -> None:
    """Python's float() reads Arabic-Indic and full-width digits and underscores; the
    whole-book path cannot, so the row-by-row path must not either (found by Hypothesis)."""
    in_polars = pl.DataFrame({"v": [text]}).select(number_expr("v").alias("number"))["number"][0]
    assert as_number(text) == in_polars
