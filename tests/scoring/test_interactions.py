"""The interaction model: an EBM frozen into 1-D and 2-D points tables, served without it."""

from __future__ import annotations

import bisect
import datetime as dt
import json
import math
import subprocess
import sys

import polars as pl
import pytest

from limitwise.scoring.artifact import (
    DEFAULTS_DIR,
    default_scorecard,
    dump_scorecard,
    save_scorecard,
    scorecard_from_json,
)
from limitwise.scoring.schemas import (
    CharacteristicConfig,
    Purpose,
    Scorecard,
    TrainingConfig,
)
from limitwise.scoring.serve import score_frame, score_rows, term_points

from .conftest import TARGET, make_applications

FAST = {"interaction_bags": 1, "max_interactions": 3, "min_iv": 0.0}


def _train(frame: pl.DataFrame, **config: object) -> Scorecard:
    from limitwise.scoring.train import train_scorecard

    return train_scorecard(
        frame,
        target=TARGET,
        config=TrainingConfig(name="ebm", **{**FAST, **config}),  # type: ignore[arg-type]
        trained_on=dt.date(2026, 12, 2),
        data_sha256="0" * 64,
        id_column="applicant",
    )


@pytest.fixture(scope="module")
def small() -> pl.DataFrame:
    return make_applications(1500, seed=5)


@pytest.fixture(scope="module")
def model(small: pl.DataFrame) -> Scorecard:
    return _train(small, family="interactions")


def test_interaction_model_freezes_pairwise_tables(model, small):
    assert model.training.family == "interactions"
    assert 1 <= len(model.interactions) <= 3
    for interaction in model.interactions:
        rows, columns = (axis.size for axis in interaction.axes)
        assert len(interaction.points) == rows and all(
            len(r) == columns for r in interaction.points
        )
    assert scorecard_from_json(dump_scorecard(model)) == model
    assert model.metrics.auc > 0.7


def test_row_wise_and_polars_agree_with_interactions(model, small):
    odd = pl.DataFrame(
        {
            "applicant": ["X1", "X2", "X3"],
            "utilisation_pct": [None, "n/a", "250"],
            "monthly_income": [None, 0.0, 1e9],
            "age": [None, 18, 99],
            "housing": ["boat", None, "own"],
            TARGET: [0, 1, 0],
        },
        schema_overrides={"monthly_income": pl.Float64},
    )
    frame = pl.concat([small, odd], how="vertical_relaxed")
    for lang in ("en", "zh"):
        assert score_frame(model, frame, lang=lang).equals(score_rows(model, frame, lang=lang))


def _lookup(axis: dict, value: object) -> int:
    """Index of a value on a table axis, computed from the JSON alone."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    if axis["kind"] == "numeric":
        try:
            number = float(str(value).strip().rstrip("%"))
        except ValueError:
            return 0
        return 1 + bisect.bisect_right(axis["splits"], number)
    for index, group in enumerate(axis["categories"]):
        if str(value) in group:
            return index + 1
    return len(axis["categories"]) + 1


def _independent_points(body: dict, row: dict) -> list[tuple[int, str, int]]:
    """(points, code, best) per term from the artifact's JSON, without limitwise's serving."""
    terms = []
    for c in body["characteristics"]:
        index = _lookup({**c, "kind": c["kind"]}, row[c["name"]])
        unknown = c["kind"] == "categorical" and index == len(c["categories"]) + 1
        points = (
            c["points_missing"]
            if index == 0
            else c["points_unknown"]
            if unknown
            else c["points"][index - 1]
        )
        best = max(*c["points"], c["points_missing"], c["points_unknown"])
        terms.append((points, c["code"], best))
    for i in body["interactions"]:
        first, second = i["axes"]
        points = i["points"][_lookup(first, row[first["name"]])][
            _lookup(second, row[second["name"]])
        ]
        terms.append((points, i["code"], max(max(r) for r in i["points"])))
    return terms


def test_scores_and_reasons_are_the_true_largest_point_losses(model, small):
    body = json.loads(dump_scorecard(model))
    scored = score_frame(model, small)
    for row, out in zip(
        small.head(400).iter_rows(named=True), scored.head(400).iter_rows(named=True), strict=True
    ):
        terms = _independent_points(body, row)
        assert out["score"] == sum(points for points, _code, _best in terms)
        losses = sorted(
            (
                (best - points, position, code)
                for position, (points, code, best) in enumerate(terms)
            ),
            key=lambda t: (-t[0], t[1]),
        )
        expected = [code for loss, _p, code in losses if loss > 0][:4]
        assert [out[f"reason_{k}"] for k in range(1, 5) if out[f"reason_{k}"]] == expected


def test_frozen_tables_reproduce_the_ebm_logit(small):
    from limitwise.scoring.data import detect_columns, encode_target
    from limitwise.scoring.interactions import fit_ebm, freeze_ebm
    from limitwise.scoring.train import training_matrix

    config = TrainingConfig(**FAST)  # type: ignore[arg-type]
    kinds = detect_columns(small, target=TARGET, id_column="applicant", config=config).kinds
    x = training_matrix(small, kinds)
    ebm = fit_ebm(x, encode_target(small, TARGET, [])[0].to_numpy(), kinds, config)
    characteristics, interactions = freeze_ebm(ebm, config, "A")
    terms = [*characteristics, *interactions]
    factor = config.scaling.pdo / math.log(2)
    offset = config.scaling.base_score - factor * math.log(config.scaling.base_odds)
    logits = ebm.decision_function(x)
    for row, logit in zip(small.head(300).iter_rows(named=True), logits[:300], strict=True):
        score = sum(term_points(t, row) for t in terms)
        # Each term rounds to whole points once: at most half a point each.
        assert abs(score - (offset - factor * logit)) <= 0.5 * len(terms) + 1e-6


def test_declared_monotonic_trend_is_kept(small):
    model = _train(
        small,
        family="interactions",
        columns={"age": CharacteristicConfig(monotonic_trend="descending")},
    )
    age = model.characteristic("age")
    assert age.points == sorted(age.points)  # older never earns fewer points
    assert all("age" not in [a.name for a in i.axes] for i in model.interactions)


def test_auto_picks_the_family_with_the_higher_cross_validated_auc(small):
    model = _train(small.head(800), family="auto", cv_folds=2)
    cv_auc = model.training.cv_auc
    assert set(cv_auc) == {"scorecard", "interactions"}
    assert model.training.family == max(cv_auc, key=lambda f: cv_auc[f])
    assert bool(model.interactions) == (model.training.family == "interactions")


def test_serving_an_interaction_model_needs_no_training_stack(model, small, tmp_path):
    path = tmp_path / "ebm.json"
    save_scorecard(model, path)
    small.head(50).write_csv(tmp_path / "rows.csv")
    code = (
        "import sys, polars as pl\n"
        "from limitwise.scoring.artifact import load_scorecard\n"
        "from limitwise.scoring.serve import score_frame\n"
        f"sc = load_scorecard(__import__('pathlib').Path({str(path)!r}))\n"
        f"print(score_frame(sc, pl.read_csv({str(tmp_path / 'rows.csv')!r}))['score'].sum())\n"
        "heavy = ('interpret', 'optbinning', 'sklearn', 'lightgbm', 'pandas')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == score_frame(model, small.head(50))["score"].sum()


def test_artifacts_without_the_new_fields_keep_their_text_and_sha256():
    # The shipped application artifact was written by the dump before interactions existed.
    path = DEFAULTS_DIR / "application.json"
    assert dump_scorecard(default_scorecard(Purpose.APPLICATION)) == path.read_text("utf-8")
    body = json.loads(dump_scorecard(default_scorecard(Purpose.BEHAVIOUR)))
    assert "interactions" not in body
    assert not {"family", "cv_auc"} & set(body["training"])
    assert "sample" not in body["metrics"]


def test_pairs_are_capped_so_the_card_keeps_within_the_term_limit():
    import numpy as np

    from limitwise.scoring.schemas import MAX_TERMS

    rng = np.random.default_rng(3)
    columns = {f"x{i:02d}": rng.normal(size=400).round(3) for i in range(45)}
    logit = columns["x00"] - columns["x01"] + columns["x02"] * columns["x03"]
    frame = pl.DataFrame({"applicant": [f"P{i}" for i in range(400)], **columns}).with_columns(
        pl.Series(TARGET, (rng.random(400) < 1 / (1 + np.exp(-logit))).astype(int))
    )
    card = _train(frame, family="interactions", max_interactions=30, interaction_max_bins=8)
    assert len(card.characteristics) == 45
    assert len(card.interactions) == MAX_TERMS - 45
