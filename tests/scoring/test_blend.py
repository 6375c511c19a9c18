"""Blended cards: a weighted average of frozen cards, frozen again into one plain card."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import numpy as np
import polars as pl
import pytest

from limitwise.scoring.artifact import dump_scorecard, save_scorecard, scorecard_from_json
from limitwise.scoring.blend import average_cards
from limitwise.scoring.schemas import CharacteristicConfig, Scorecard, Segment, TrainingConfig
from limitwise.scoring.serve import score_frame, score_rows

from .conftest import TARGET, make_applications
from .test_segments import make_channels, train

FAST = {"interaction_bags": 1, "max_interactions": 3, "min_iv": 0.0}


def _train(frame: pl.DataFrame, **config: object) -> Scorecard:
    from limitwise.scoring.train import train_scorecard

    return train_scorecard(
        frame,
        target=TARGET,
        config=TrainingConfig(name="blend", **{**FAST, **config}),  # type: ignore[arg-type]
        trained_on=dt.date(2026, 12, 4),
        data_sha256="0" * 64,
        id_column="applicant",
    )


@pytest.fixture(scope="module")
def members() -> list[Scorecard]:
    """Two cards with different bins, terms and families over the same columns."""
    return [
        _train(make_applications(1500, seed=5), family="interactions"),
        _train(make_applications(1500, seed=6)),
    ]


def odd_rows(rows: int, seed: int) -> pl.DataFrame:
    """Random applicants, with missing values, text numbers and unseen categories."""
    rng = np.random.default_rng(seed)
    frame = make_applications(rows, seed=seed)
    return frame.with_columns(
        housing=pl.Series(
            list(rng.choice(["rent", "own", "caravan", None], rows)), dtype=pl.String
        ),
        age=pl.Series(list(rng.choice([18, 25, 40, 67, 90, None], rows)), dtype=pl.Int64),
    )


@pytest.mark.parametrize("weights", [(0.5, 0.5), (0.75, 0.25), (0.1, 0.9)])
def test_the_frozen_average_scores_the_average_of_the_members(members, weights):
    blended = average_cards(members, weights)
    frame = odd_rows(2000, seed=21)
    expected = sum(
        w * score_frame(m, frame)["score"].to_numpy() for w, m in zip(weights, members, strict=True)
    )
    got = score_frame(blended, frame)["score"].to_numpy()
    terms = len(blended.characteristics) + len(blended.interactions)
    # Each term's averaged points round once: at most half a point per term.
    assert np.abs(got - expected).max() <= 0.5 * terms + 1e-9
    assert not np.array_equal(got, score_frame(members[0], frame)["score"].to_numpy())
    assert score_rows(blended, frame).equals(score_frame(blended, frame))


def test_a_blend_holds_every_members_terms_once_and_round_trips(members):
    blended = average_cards(members, [0.5, 0.5])
    names = {t.name for m in members for t in [*m.characteristics, *m.interactions]}
    assert {t.name for t in [*blended.characteristics, *blended.interactions]} == names
    codes = [t.code for t in [*blended.characteristics, *blended.interactions]]
    assert len(set(codes)) == len(codes)
    assert scorecard_from_json(dump_scorecard(blended)) == blended
    # A numeric characteristic is cut at every split any member had (then equal bins merge).
    utilisation = blended.characteristic("utilisation_pct")
    union = {s for m in members for s in m.characteristic("utilisation_pct").splits}
    assert set(utilisation.splits) <= union


def test_a_card_averaged_with_itself_is_itself(members):
    card = members[0]
    same = average_cards([card, card], [0.5, 0.5])
    frame = odd_rows(500, seed=3)
    assert score_frame(same, frame)["score"].equals(score_frame(card, frame)["score"])


def test_declared_trends_survive_the_blend():
    descending = {"age": CharacteristicConfig(monotonic_trend="descending")}
    cards = [
        _train(make_applications(1200, seed=s), family="interactions", columns=descending)
        for s in (7, 8)
    ]
    age = average_cards(cards, [0.6, 0.4]).characteristic("age")
    assert age.points == sorted(age.points)  # older never earns fewer points
    assert age.reason.en == "age is too low"


def test_bad_weights_are_refused(members):
    for weights in ([1.0], [0.5, 0.6], [1.2, -0.2]):
        with pytest.raises(ValueError, match="weight"):
            average_cards(members, weights)


def test_declared_pairs_are_the_pairs_fitted():
    frame = make_applications(1200, seed=9)
    card = _train(
        frame,
        family="interactions",
        interaction_pairs=[("age", "housing"), ("age", "no_such_column")],
    )
    assert [[a.name for a in i.axes] for i in card.interactions] == [["age", "housing"]]


def test_segment_search_compares_blends_and_keeps_the_best():
    config = TrainingConfig(
        name="seg", min_iv=0.0, cv_folds=2, segment="channel", min_segment_rows=400
    )
    card = train(make_channels(seed=6, opposite=False), config)
    compared = card.training.segment_cv_auc
    assert set(compared) == {
        "pooled",
        "segmented by channel",
        "segmented by channel, 0.75 own card + 0.25 pooled",
        "segmented by channel, 0.5 own card + 0.5 pooled",
    }
    best = max(compared, key=lambda k: compared[k])
    if best == "pooled":
        assert card.segments == []
        return
    weights = {s.scorecard.training.pooled_weight for s in card.segments}
    assert weights == {0.0 if best == "segmented by channel" else float(best.split(" + ")[0][-4:])}


@pytest.fixture(scope="module")
def blended_segments() -> tuple[pl.DataFrame, Scorecard, list[Segment], Scorecard]:
    """Channel cards blended 0.75 / 0.25 with the pooled card: frame, pooled, cards, artifact."""
    from limitwise.scoring.train import segment_cards, segmented_artifact

    config = TrainingConfig(
        name="seg", family="interactions", min_iv=0.0, segment="channel", min_segment_rows=400
    )
    frame = make_channels()
    pooled = train(frame, config.model_copy(update={"segment": None}))
    common = {"target": TARGET, "trained_on": dt.date(2026, 12, 4), "id_column": None}
    cards = segment_cards(
        frame, pooled, ["web", "branch"], column="channel", config=config, **common
    )
    artifact = segmented_artifact(
        frame,
        pooled,
        cards,
        column="channel",
        weight=0.75,
        config=config,
        trained_on=dt.date(2026, 12, 4),
    )
    return frame, pooled, cards, artifact


def test_a_blended_segment_card_is_the_average_of_its_segment_card_and_the_pooled_card(
    blended_segments,
):
    frame, pooled, cards, artifact = blended_segments
    web = frame.filter(pl.col("channel") == "web")
    own = score_frame(cards[0].scorecard, web)["score"].to_numpy()
    prior = score_frame(pooled, web)["score"].to_numpy()
    blended = score_frame(artifact, web)
    assert set(blended["score_segment"]) == {"channel=web"}
    card = artifact.segments[0].scorecard
    assert card.training.pooled_weight == 0.25
    assert card.version != cards[0].scorecard.version
    terms = len(card.characteristics) + len(card.interactions)
    assert np.abs(blended["score"].to_numpy() - (0.75 * own + 0.25 * prior)).max() <= 0.5 * terms
    assert (
        json.loads(dump_scorecard(artifact))["segments"][0]["scorecard"]["training"][
            "pooled_weight"
        ]
        == 0.25
    )


def test_the_worked_example_of_docs_scoring(members):
    from limitwise.scoring.schemas import Characteristic, ReasonText

    def card(splits: list[float], points: list[int]) -> Scorecard:
        text = ReasonText(en="DEBTINC", zh="DEBTINC")
        debtinc = Characteristic(
            name="DEBTINC",
            code="A01",
            kind="numeric",
            label=text,
            reason=text,
            reason_missing=text,
            iv=0.3,
            splits=splits,
            bins=[str(p) for p in points],
            points=points,
            points_missing=20,
            points_unknown=20,
        )
        return members[0].model_copy(
            update={"characteristics": [debtinc], "interactions": [], "derived": []}
        )

    blended = average_cards([card([30, 40], [60, 50, 30]), card([35], [56, 40])], [0.75, 0.25])
    debtinc = blended.characteristic("DEBTINC")
    assert (debtinc.splits, debtinc.points) == ([30, 35, 40], [59, 52, 48, 32])
    assert debtinc.bins == ["[-inf, 30)", "[30, 35)", "[35, 40)", "[40, inf)"]
    assert debtinc.reason.en == "DEBTINC is too high"


def test_a_blended_cards_reasons_are_its_true_largest_point_losses(members):
    from .test_interactions import _independent_points

    blended = average_cards(members, [0.75, 0.25])
    body = json.loads(dump_scorecard(blended))
    frame = odd_rows(300, seed=4)
    scored = score_frame(blended, frame)
    for row, out in zip(frame.iter_rows(named=True), scored.iter_rows(named=True), strict=True):
        terms = _independent_points(body, row)
        assert out["score"] == sum(points for points, _code, _best in terms)
        losses = sorted(
            ((best - points, k, code) for k, (points, code, best) in enumerate(terms)),
            key=lambda t: (-t[0], t[1]),
        )
        expected = [code for loss, _k, code in losses if loss > 0][:4]
        assert [out[f"reason_{k}"] for k in range(1, 5) if out[f"reason_{k}"]] == expected


def test_a_blended_segmented_artifact_serves_without_the_training_stack(blended_segments, tmp_path):
    frame, _pooled, _cards, artifact = blended_segments
    path = tmp_path / "blended.json"
    save_scorecard(artifact, path)
    frame.head(200).write_csv(tmp_path / "rows.csv")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import polars as pl\n"
        "from limitwise.scoring.artifact import load_scorecard\n"
        "from limitwise.scoring.serve import score_frame\n"
        f"card = load_scorecard(Path({str(path)!r}))\n"
        f"frame = pl.read_csv({str(tmp_path / 'rows.csv')!r})\n"
        "print(score_frame(card, frame)['score'].sum())\n"
        "heavy = ('optbinning', 'sklearn', 'interpret', 'pandas')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == score_frame(artifact, frame.head(200))["score"].sum()
