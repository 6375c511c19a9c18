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
)
from limitwise.scoring.metrics import Evaluation, evaluate_scores
from limitwise.scoring.schemas import Scorecard
from limitwise.scoring.serve import OUTPUT_COLUMNS, Lang, score_frame, score_rows


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
) -> Scorecard:
    """Train on a CSV and write the frozen artifact; nothing is written if training fails."""
    from limitwise.scoring.train import train_scorecard

    config = load_training_config(config_path)
    updates: dict[str, object] = {}
    if exclude:
        updates["exclude"] = [*config.exclude, *exclude]
    if bad_values:
        updates["bad_values"] = bad_values
    config = config.model_copy(update=updates)
    frame = read_csv(data)
    scorecard = train_scorecard(
        frame,
        target=target,
        config=config,
        trained_on=clock.today(),
        data_sha256=file_sha256(data),
        id_column=id_column,
    )
    save_scorecard(scorecard, out)
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
    clashing = [c for c in OUTPUT_COLUMNS if c in frame.columns]
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
