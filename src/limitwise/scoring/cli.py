"""``limitwise score ...``: train, evaluate and apply scorecards; manage the model registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from limitwise.kit.cli import DbOption, command_group
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.scoring import flows, service
from limitwise.scoring.artifact import load_scorecard
from limitwise.scoring.schemas import Purpose

app = command_group("Credit scorecards: train, evaluate, apply, publish.")
registry_app = command_group("The scorecard registry in the database.")
app.add_typer(registry_app, name="registry")

DataOption = Annotated[Path, typer.Option("--data", help="CSV file, one row per applicant.")]
ModelOption = Annotated[Path, typer.Option("--model", help="Scorecard artifact (JSON).")]
BadOption = Annotated[
    list[str] | None,
    typer.Option("--bad", help="Target value meaning bad (default: 1/bad/charged off/...)."),
]


@app.command("train")
def train(
    data: DataOption,
    target: Annotated[str, typer.Option("--target", help="Target column (good/bad).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the artifact.")],
    id_column: Annotated[str | None, typer.Option("--id", help="Row id column.")] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Column to leave out (repeatable).")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Training YAML.")] = None,
    bad: BadOption = None,
    holdout: Annotated[
        float,
        typer.Option("--holdout", help="Share of rows held out for the metrics (0: none)."),
    ] = 0.2,
    cv: Annotated[
        int | None,
        typer.Option("--cv", help="Measure by K-fold cross-validation (trains on every row)."),
    ] = None,
    holdout_out: Annotated[
        Path | None, typer.Option("--holdout-out", help="Write the held-out rows to this CSV.")
    ] = None,
    segment: Annotated[
        str | None,
        typer.Option(
            "--segment", help="Column to train one card per value of (routed at scoring)."
        ),
    ] = None,
    segment_search: Annotated[
        bool,
        typer.Option(
            "--segment-search",
            help="Try the strongest categorical columns as segment columns; keep the best if "
            "it cross-validates above the pooled card.",
        ),
    ] = False,
) -> None:
    """Train a scorecard on any tabular credit CSV and freeze it as JSON.

    Without --config: generated characteristics, and the WoE scorecard or the interaction
    model, whichever has the higher cross-validated AUC.
    """
    if cv is not None and cv < 2:
        raise typer.BadParameter("needs at least 2 folds", param_hint="--cv")
    scorecard = flows.train_csv(
        data=data,
        target=target,
        out=out,
        clock=Clock.system(),
        id_column=id_column,
        exclude=exclude,
        bad_values=bad,
        config_path=config,
        holdout=0.0 if cv else holdout,
        cv=cv,
        holdout_out=holdout_out,
        segment=segment,
        segment_search=segment_search,
    )
    console = Console()
    table = Table(title=f"{scorecard.version}: {len(scorecard.characteristics)} characteristics")
    for column in ("code", "characteristic", "IV", "bins", "points"):
        table.add_column(column)
    for c in scorecard.characteristics:
        table.add_row(
            c.code, c.name, f"{c.iv:.3f}", str(len(c.points)), f"{min(c.points)}..{c.points_best}"
        )
    for i in scorecard.interactions:
        lowest = min(min(row) for row in i.points)
        shape = "x".join(str(axis.size) for axis in i.axes)
        table.add_row(i.code, i.name, f"{i.importance:.3f}", shape, f"{lowest}..{i.points_best}")
    console.print(table)
    for name, why in scorecard.training.dropped.items():
        console.print(f"left out {name}: {why}")
    for d in scorecard.derived:
        console.print(f"derived {d.name} = {d.op} of {', '.join(d.columns)}")
    training = scorecard.training
    for s in scorecard.segments:
        card = s.scorecard
        console.print(
            f"segment card {s.name}: {len(card.characteristics)} characteristics, "
            f"{len(card.interactions)} interactions, {card.training.rows} rows"
        )
    if training.segment_cv_auc:
        compared = ", ".join(f"{name} {auc:.4f}" for name, auc in training.segment_cv_auc.items())
        console.print(f"segmentation cross-validated AUC: {compared}")
    if training.cv_auc:
        compared = ", ".join(f"{name} {auc:.4f}" for name, auc in training.cv_auc.items())
        console.print(f"model family {training.family} (cross-validated AUC: {compared})")
    m = scorecard.metrics
    console.print(f"{m.sample} AUC {m.auc:.4f}  KS {m.ks:.4f}  Gini {m.gini:.4f}; wrote {out}")


@app.command("evaluate")
def evaluate(
    model: ModelOption,
    data: DataOption,
    target: Annotated[str, typer.Option("--target", help="Target column (good/bad).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Directory for an offline HTML report.")
    ] = None,
    bad: BadOption = None,
) -> None:
    """AUC, KS, Gini, PSI against training, score-band bad rates and calibration."""
    result = flows.evaluate_csv(model=model, data=data, target=target, bad_values=bad)
    evaluation = result.evaluation
    report_path = None
    if report is not None:
        from limitwise.scoring.report import write_report

        report_path = write_report(
            report,
            scorecard=result.scorecard,
            evaluation=evaluation,
            scores=result.scores,
            bad=result.bad,
            data_name=data.name,
        )
    if as_json:
        typer.echo(json.dumps(evaluation.to_dict()))
        return
    console = Console()
    console.print(
        f"AUC {evaluation.auc:.4f}  KS {evaluation.ks:.4f}  Gini {evaluation.gini:.4f}  "
        f"PSI {evaluation.psi:.4f}  ({evaluation.rows} rows, bad rate {evaluation.bad_rate:.2%})"
    )
    table = Table(title="Score bands")
    for column in ("band", "scores", "rows", "bad rate", "predicted"):
        table.add_column(column, justify="right")
    for b in evaluation.bands:
        table.add_row(
            str(b.band),
            f"{b.score_min:.0f}-{b.score_max:.0f}",
            str(b.rows),
            f"{b.bad_rate:.2%}",
            f"{b.predicted_bad_rate:.2%}",
        )
    console.print(table)
    if report_path is not None:
        console.print(f"report: {report_path}")


@app.command("apply")
def apply(
    model: ModelOption,
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="Output CSV.")],
    lang: Annotated[str, typer.Option("--lang", help="Reason text language: en or zh.")] = "en",
    rowwise: Annotated[
        bool, typer.Option("--rowwise", help="Score row by row instead of vectorised.")
    ] = False,
) -> None:
    """Add score and reason_1..reason_4 (codes, with reason_N_text) to every row."""
    if lang not in ("en", "zh"):
        raise typer.BadParameter("must be en or zh", param_hint="--lang")
    engine: Literal["polars", "rows"] = "rows" if rowwise else "polars"
    rows = flows.apply_csv(
        model=model, data=data, out=out, lang="zh" if lang == "zh" else "en", engine=engine
    )
    typer.echo(f"scored {rows} rows into {out}")


@app.command("behaviour-train")
def behaviour_train(
    out: Annotated[Path, typer.Option("--out", help="Where to write the artifact.")],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Book CSV: account_id, behaviour features, bad_12m."),
    ] = None,
    accounts: Annotated[int, typer.Option(help="Synthetic book size (without --data).")] = 20_000,
    seed: Annotated[int, typer.Option(help="Synthetic book seed (without --data).")] = 7,
) -> None:
    """Train the behaviour scorecard (from the seeded synthetic book unless --data is given)."""
    if accounts < 1000:
        raise typer.BadParameter("need at least 1000 accounts", param_hint="--accounts")
    scorecard = flows.train_behaviour(
        out=out, clock=Clock.system(), data=data, accounts=accounts, seed=seed
    )
    m = scorecard.metrics
    typer.echo(f"{scorecard.version}: training AUC {m.auc:.4f} KS {m.ks:.4f}; wrote {out}")


@app.command("behaviour")
def behaviour(
    data: Annotated[Path, typer.Option("--data", help="Account features CSV.")],
    out: Annotated[Path, typer.Option("--out", help="Output CSV.")],
    model: Annotated[
        Path | None, typer.Option("--model", help="Behaviour artifact (default: shipped).")
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Reason text language: en or zh.")] = "en",
) -> None:
    """Behaviour-score every account: adds score and reason_1..reason_4."""
    if lang not in ("en", "zh"):
        raise typer.BadParameter("must be en or zh", param_hint="--lang")
    rows = flows.score_behaviour_csv(
        data=data, out=out, model=model, lang="zh" if lang == "zh" else "en"
    )
    typer.echo(f"scored {rows} accounts into {out}")


@registry_app.command("add")
def registry_add(
    model: ModelOption,
    by: Annotated[str, typer.Option("--by", help="Who registers it.")],
    db: DbOption = None,
) -> None:
    """Register a scorecard version (idempotent for the identical artifact)."""
    scorecard = load_scorecard(model)
    with unit_of_work(make_engine(db)) as session:
        entry = service.register_scorecard(
            session, clock=Clock.system(), scorecard=scorecard, registered_by=by
        )
    typer.echo(f"registered {entry.version} ({entry.purpose})")


@registry_app.command("publish")
def registry_publish(
    version: Annotated[str, typer.Argument(help="Registered version to make live.")],
    by: Annotated[str, typer.Option("--by", help="Who publishes it.")],
    db: DbOption = None,
) -> None:
    """Make a registered version the live scorecard for its purpose."""
    with unit_of_work(make_engine(db)) as session:
        entry = service.publish_scorecard(
            session, clock=Clock.system(), version=version, published_by=by
        )
    typer.echo(f"{entry.version} is now live for {entry.purpose}")


@registry_app.command("list")
def registry_list(db: DbOption = None) -> None:
    """Every registered version, and which one is live per purpose."""
    with unit_of_work(make_engine(db)) as session:
        entries = service.list_scorecards(session)
    table = Table(title="Scorecards")
    for column in ("purpose", "version", "registered", "live", "published by", "published at"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            e.purpose,
            e.version,
            f"{e.registered_by} {e.registered_at:%Y-%m-%d}",
            "yes" if e.live else "",
            e.published_by or "",
            f"{e.published_at:%Y-%m-%d %H:%M}" if e.published_at else "",
        )
    Console().print(table)


@registry_app.command("live")
def registry_live(
    purpose: Annotated[Purpose, typer.Option("--purpose")] = Purpose.APPLICATION,
    db: DbOption = None,
) -> None:
    """Print the live scorecard version for a purpose."""
    with unit_of_work(make_engine(db)) as session:
        entry = service.live_entry(session, purpose=purpose)
    typer.echo(entry.version)
