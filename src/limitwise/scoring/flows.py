"""File-to-file flows behind ``limitwise score train | evaluate | apply``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from limitwise.kit.clock import Clock
from limitwise.kit.errors import InvalidInput
from limitwise.scoring.artifact import load_scorecard, save_scorecard
from limitwise.scoring.data import (
    encode_target,
    file_sha256,
    frame_sha256,
    load_training_config,
    read_csv,
    split_holdout,
)
from limitwise.scoring.metrics import Evaluation, evaluate_scores
from limitwise.scoring.schemas import Scorecard, TrainingConfig
from limitwise.scoring.serve import (
    OUTPUT_COLUMNS,
    SEGMENT_OUTPUT,
    Lang,
    score_frame,
    score_rows,
)

#: What ``score train`` does without ``--config``: generated characteristics, and the
#: scorecard or the interaction model, whichever cross-validates better.
CLI_DEFAULTS = TrainingConfig(family="auto", generate=True)


def train_csv(
    *,
    data: Path,
    target: str,
    out: Path,
    clock: Clock,
    id_column: str | None = None,
    exclude: list[str] | None = None,
    bad_values: list[str] | None = None,
    config_path: Path | None = None,
    holdout: float = 0.0,
    cv: int | None = None,
    holdout_out: Path | None = None,
    segment: str | None = None,
    segment_search: bool = False,
) -> Scorecard:
    """Train on a CSV and write the frozen artifact; nothing is written if training fails.

    With ``holdout`` the artifact is trained on the other rows and its metrics are measured
    on the held-out share (written to ``holdout_out`` when given); with ``cv`` they are the
    mean over ``cv`` folds and the artifact is trained on every row. Otherwise they are
    training metrics.
    """
    from limitwise.scoring.train import cross_validated, measured, train_scorecard

    if holdout and cv:
        raise InvalidInput("give --holdout or --cv, not both", field="cv", code="one_of")
    if holdout_out is not None and not holdout:
        raise InvalidInput("--holdout-out needs --holdout", field="holdout_out", code="requires")
    config = load_training_config(config_path) if config_path else CLI_DEFAULTS
    updates: dict[str, object] = {}
    if exclude:
        updates["exclude"] = [*config.exclude, *exclude]
    if bad_values:
        updates["bad_values"] = bad_values
    if segment:
        updates["segment"] = segment
    if segment_search:
        updates["segment_search"] = True
    config = config.model_copy(update=updates)
    frame = read_csv(data)
    held: pl.DataFrame | None = None
    if holdout:
        bad, _label = encode_target(frame, target, config.bad_values)
        frame, held = split_holdout(frame, bad, holdout)
    scorecard = train_scorecard(
        frame,
        target=target,
        config=config,
        trained_on=clock.today(),
        data_sha256=file_sha256(data),
        id_column=id_column,
    )
    if held is not None:
        scorecard = scorecard.model_copy(
            update={"metrics": measured(scorecard, held).model_copy(update={"sample": "holdout"})}
        )
    if cv:
        family = scorecard.training.family
        folds = cross_validated(
            frame,
            target=target,
            config=config.model_copy(update={"family": family}),
            id_column=id_column,
            trained_on=clock.today(),
            folds=cv,
            families=(family,),
        )
        scorecard = scorecard.model_copy(update={"metrics": folds[family]})
    save_scorecard(scorecard, out)
    if held is not None and holdout_out is not None:
        holdout_out.parent.mkdir(parents=True, exist_ok=True)
        held.write_csv(holdout_out)
    return scorecard


@dataclass(frozen=True)
class EvaluatedData:
    scorecard: Scorecard
    evaluation: Evaluation
    scores: pl.Series
    bad: pl.Series


def evaluate_csv(
    *, model: Path, data: Path, target: str, bad_values: list[str] | None = None
) -> EvaluatedData:
    """Score a labelled CSV and measure discrimination, stability and calibration."""
    scorecard = load_scorecard(model)
    frame = read_csv(data)
    bad, _label = encode_target(frame, target, bad_values or scorecard.training.bad_values)
    scores = score_frame(scorecard, frame)["score"]
    evaluation = evaluate_scores(
        scores, bad, baseline=scorecard.training.score_distribution, scaling=scorecard.scaling
    )
    return EvaluatedData(scorecard, evaluation, scores, bad)


def apply_csv(
    *,
    model: Path,
    data: Path,
    out: Path,
    lang: Lang = "en",
    engine: Literal["polars", "rows"] = "polars",
) -> int:
    """Write ``data`` plus score and reasons to ``out``; returns the number of rows scored."""
    scorecard = load_scorecard(model)
    frame = read_csv(data)
    clashing = [c for c in (*OUTPUT_COLUMNS, SEGMENT_OUTPUT) if c in frame.columns]
    if clashing:
        raise InvalidInput(
            f"the data already has output column(s) {', '.join(clashing)}",
            field=clashing[0],
            code="output_column_free",
        )
    scored = (
        score_frame(scorecard, frame, lang=lang)
        if engine == "polars"
        else score_rows(scorecard, frame, lang=lang)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    scored.write_csv(out)
    return scored.height


def train_behaviour(
    *, out: Path, clock: Clock, data: Path | None = None, accounts: int = 20_000, seed: int = 7
) -> Scorecard:
    """Train the behaviour scorecard on a book with outcomes (default: the synthetic book)."""
    from limitwise.scoring.behaviour import ACCOUNT_ID, OUTCOME, behaviour_training_config
    from limitwise.scoring.synthetic import generate_book
    from limitwise.scoring.train import train_scorecard

    if data is not None:
        book, digest = read_csv(data), file_sha256(data)
    else:
        book = generate_book(accounts=accounts, seed=seed)
        digest = frame_sha256(book)
    scorecard = train_scorecard(
        book,
        target=OUTCOME,
        config=behaviour_training_config(),
        trained_on=clock.today(),
        data_sha256=digest,
        id_column=ACCOUNT_ID if ACCOUNT_ID in book.columns else None,
    )
    save_scorecard(scorecard, out)
    return scorecard


def score_behaviour_csv(
    *, data: Path, out: Path, model: Path | None = None, lang: Lang = "en"
) -> int:
    """Behaviour-score every account row of ``data`` into ``out``."""
    from limitwise.scoring.behaviour import score_accounts

    scorecard = load_scorecard(model) if model is not None else None
    scored = score_accounts(read_csv(data), scorecard=scorecard, lang=lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    scored.write_csv(out)
    return scored.height
