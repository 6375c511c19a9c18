"""Segmented scorecards: one card per large segment, routed by the segment value at serving."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np
import polars as pl
import pytest

from limitwise.kit.errors import InvalidInput
from limitwise.scoring.artifact import dump_scorecard, save_scorecard, scorecard_from_json
from limitwise.scoring.schemas import Scorecard, TrainingConfig
from limitwise.scoring.serve import POOLED, score_frame, score_row, score_rows

TARGET = "defaulted"
CONFIG = TrainingConfig(name="seg", min_iv=0.0, cv_folds=2, segment="channel", min_segment_rows=400)


def make_channels(rows: int = 2400, seed: int = 5, *, opposite: bool = True) -> pl.DataFrame:
    """Applicants from two large channels and a small one; with ``opposite`` utilisation
    raises risk on the web and lowers it in branches (no single additive card fits both)."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(["web", "branch", "phone"], rows, p=[0.5, 0.45, 0.05])
    utilisation = rng.random(rows)
    age = rng.integers(21, 70, rows)
    sign = np.where((channel == "branch") & opposite, -1.0, 1.0)
    logit = -1.5 + sign * 3.0 * (utilisation - 0.5) - 0.02 * (age - 40)
    defaulted = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pl.DataFrame(
        {"channel": channel, "utilisation": utilisation.round(4), "age": age, TARGET: defaulted}
    )


def train(frame: pl.DataFrame, config: TrainingConfig = CONFIG) -> Scorecard:
    from limitwise.scoring.train import train_scorecard

    return train_scorecard(
        frame,
        target=TARGET,
        config=config,
        trained_on=dt.date(2026, 12, 3),
        data_sha256="0" * 64,
    )


@pytest.fixture(scope="module")
def segmented() -> Scorecard:
    return train(make_channels())


def test_segments_that_differ_get_cards_of_their_own(segmented):
    assert segmented.segment_column == "channel"
    assert [s.name for s in segmented.segments] == ["channel=web", "channel=branch"]
    compared = segmented.training.segment_cv_auc
    assert compared["segmented by channel"] > compared["pooled"] + 0.05
    assert "'phone'" in segmented.training.dropped["segment channel"]
    web, branch = (s.scorecard.characteristic("utilisation") for s in segmented.segments)
    assert web.points[0] > web.points[-1]  # on the web higher utilisation costs points
    assert branch.points[0] < branch.points[-1]  # in a branch it earns them


def test_rows_are_routed_by_segment_value_and_scored_by_that_card_alone(segmented):
    web, branch = (s.scorecard for s in segmented.segments)
    base = {"utilisation": 0.9, "age": 30}
    for value, card, segment in [
        ("web", web, "channel=web"),
        ("branch", branch, "channel=branch"),
        ("phone", segmented, POOLED),
        ("fax", segmented, POOLED),
        (None, segmented, POOLED),
    ]:
        row = {**base, "channel": value}
        result = score_row(segmented, row)
        alone = score_row(card.model_copy(update={"segment_column": None, "segments": []}), row)
        assert (result.score, result.reasons, result.points) == (
            alone.score,
            alone.reasons,
            alone.points,
        )
        assert result.route is not None and result.route.segment == segment
    assert score_row(segmented, {**base, "channel": "fax"}).route.why == (
        "channel 'fax' has no card of its own: the pooled card"
    )
    assert "not provided" in score_row(segmented, {**base, "channel": None}).route.why
    assert (
        score_row(segmented, {**base, "channel": "web"}).score
        != score_row(segmented, {**base, "channel": "branch"}).score
    )


def test_row_wise_and_polars_agree_on_a_segmented_artifact(segmented):
    frame = make_channels(300, seed=9).with_columns(
        pl.when(pl.int_range(pl.len()) % 7 == 0)
        .then(None)
        .when(pl.int_range(pl.len()) % 11 == 0)
        .then(pl.lit("fax"))
        .otherwise(pl.col("channel"))
        .alias("channel")
    )
    vectorised = score_frame(segmented, frame)
    assert vectorised.equals(score_rows(segmented, frame))
    assert vectorised["channel"].equals(frame["channel"])  # rows come back in their order
    routes = dict(vectorised.group_by("score_segment").len().iter_rows())
    assert set(routes) == {"channel=web", "channel=branch", POOLED}


def test_pooled_card_is_kept_when_segments_do_not_cross_validate_better():
    # Same risk in every channel; in this draw the segment cards cross-validate worse.
    pooled = train(make_channels(seed=6, opposite=False))
    assert pooled.segments == [] and pooled.segment_column is None
    compared = pooled.training.segment_cv_auc
    assert compared["segmented by channel"] <= compared["pooled"]
    assert "the pooled card is kept" in pooled.training.dropped["segment channel"]


def test_a_segmented_artifact_round_trips_and_serves_without_the_training_stack(
    segmented, tmp_path
):
    text = dump_scorecard(segmented)
    assert scorecard_from_json(text) == segmented
    path = tmp_path / "segmented.json"
    save_scorecard(segmented, path)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from limitwise.scoring.artifact import load_scorecard\n"
        "from limitwise.scoring.serve import score_row\n"
        f"card = load_scorecard(Path({str(path)!r}))\n"
        "print(score_row(card, {'channel': 'web', 'utilisation': 0.5, 'age': 40}).route.segment)\n"
        "heavy = ('optbinning', 'sklearn', 'interpret', 'pandas')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "channel=web"


def with_noise_columns(frame: pl.DataFrame, seed: int = 11) -> pl.DataFrame:
    """Two categorical columns unrelated to risk: ``region`` has two large values, ``shop``
    six (more cards than a search tries)."""
    rng = np.random.default_rng(seed)
    return frame.with_columns(
        region=pl.Series(rng.choice(["north", "south"], frame.height)),
        shop=pl.Series(rng.choice([f"s{i}" for i in range(6)], frame.height)),
    )


def test_segment_search_finds_the_column_whose_segments_differ():
    searched = CONFIG.model_copy(
        update={"segment": None, "segment_search": True, "segment_weights": [1.0]}
    )
    card = train(with_noise_columns(make_channels()), searched)
    assert card.segment_column == "channel"
    compared = card.training.segment_cv_auc
    # shop has six large values: not a candidate; region is tried and loses.
    assert set(compared) == {"pooled", "segmented by channel", "segmented by region"}
    assert compared["segmented by channel"] > compared["pooled"] > compared["segmented by region"]


def test_segment_search_keeps_the_pooled_card_when_no_segment_helps():
    searched = CONFIG.model_copy(
        update={"segment": None, "segment_search": True, "segment_weights": [1.0]}
    )
    card = train(with_noise_columns(make_channels(seed=6, opposite=False)), searched)
    assert card.segment_column is None and card.segments == []
    assert "the pooled card is kept" in card.training.dropped["segment search"]
    assert set(card.training.segment_cv_auc) == {
        "pooled",
        "segmented by channel",
        "segmented by region",
    }


def test_segment_search_without_a_candidate_says_so():
    searched = CONFIG.model_copy(update={"segment": None, "segment_search": True})
    card = train(make_channels(800).drop("channel"), searched)
    assert card.segment_column is None and card.training.segment_cv_auc == {}
    assert "no categorical column" in card.training.dropped["segment search"]


def test_segment_search_tries_only_the_strongest_candidates():
    from limitwise.scoring.train import segment_columns

    frame = with_noise_columns(make_channels())
    bad = frame[TARGET]
    searched = CONFIG.model_copy(update={"segment": None, "segment_search": True})
    both = segment_columns(frame, bad, searched, target=TARGET, id_column=None)
    assert both == ["channel", "region"]  # channel carries more information value
    one = searched.model_copy(update={"segment_candidates": 1})
    assert segment_columns(frame, bad, one, target=TARGET, id_column=None) == ["channel"]


def test_a_segment_column_not_in_the_data_is_refused():
    with pytest.raises(InvalidInput) as error:
        train(make_channels(400), CONFIG.model_copy(update={"segment": "region"}))
    assert error.value.field == "segment"
    assert "'region'" in str(error.value)


def test_score_train_segment_option_writes_one_routed_artifact(tmp_path):
    from typer.testing import CliRunner

    from limitwise.cli import app
    from limitwise.scoring.artifact import load_scorecard

    data, out, config = tmp_path / "apps.csv", tmp_path / "model.json", tmp_path / "train.yaml"
    make_channels().write_csv(data)
    config.write_text("min_iv: 0.0\ncv_folds: 2\nmin_segment_rows: 400\n")
    command = ["score", "train", "--data", str(data), "--target", TARGET]
    options = ["--config", str(config), "--segment", "channel", "--holdout", "0"]
    result = CliRunner().invoke(app, [*command, *options, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "segment card channel=web" in result.output
    assert "segmentation cross-validated AUC" in result.output
    assert load_scorecard(out).segment_column == "channel"


def test_score_train_segment_search_option_finds_the_segment_column(tmp_path):
    from typer.testing import CliRunner

    from limitwise.cli import app
    from limitwise.scoring.artifact import load_scorecard

    data, out, config = tmp_path / "apps.csv", tmp_path / "model.json", tmp_path / "train.yaml"
    with_noise_columns(make_channels()).write_csv(data)
    config.write_text("min_iv: 0.0\ncv_folds: 2\nmin_segment_rows: 400\n")
    command = ["score", "train", "--data", str(data), "--target", TARGET, "--holdout", "0"]
    options = ["--config", str(config), "--segment-search", "--out", str(out)]
    result = CliRunner().invoke(app, [*command, *options])
    assert result.exit_code == 0, result.output
    assert "segmented by region" in result.output
    assert load_scorecard(out).segment_column == "channel"


def test_score_apply_writes_the_route_and_refuses_data_that_already_has_it(segmented, tmp_path):
    from limitwise.scoring.flows import apply_csv

    model, data, out = tmp_path / "model.json", tmp_path / "apps.csv", tmp_path / "scored.csv"
    save_scorecard(segmented, model)
    make_channels(50, seed=2).write_csv(data)
    apply_csv(model=model, data=data, out=out)
    assert set(pl.read_csv(out)["score_segment"]) <= {"channel=web", "channel=branch", POOLED}
    make_channels(50, seed=2).with_columns(score_segment=pl.lit("x")).write_csv(data)
    with pytest.raises(InvalidInput) as error:
        apply_csv(model=model, data=data, out=tmp_path / "again.csv")
    assert error.value.field == "score_segment"
    assert not (tmp_path / "again.csv").exists()
