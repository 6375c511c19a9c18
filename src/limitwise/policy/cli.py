"""``limitwise policy ...``: validate, publish, list, show, diff, roll back, evaluate, and show
the compiled forms (``sql``, ``python``)."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from limitwise.kit.cli import DbOption, command_group
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.kit.errors import InvalidInput
from limitwise.kit.files import parse_json, read_json, read_text
from limitwise.policy import service
from limitwise.policy.compiled import Policy
from limitwise.policy.diff import diff_bundles
from limitwise.policy.kernel import KernelFunction
from limitwise.policy.online import PolicyEvaluator
from limitwise.policy.pygen import DecisionFunction
from limitwise.policy.sql import Dialect, compile_sql
from limitwise.policy.validate import PolicyInvalid, load_file

app = command_group("Versioned line policies: validate, publish, diff, evaluate.")
FileArg = Annotated[Path, typer.Argument(help="Policy YAML file.")]


@app.command("validate")
def validate(file: FileArg) -> None:
    """Check a bundle; print every problem with its file, line and node."""
    try:
        policy = load_file(file)
    except PolicyInvalid as exc:
        typer.echo(f"{len(exc.problems)} problem(s) in {file}:")
        for problem in exc.problems:
            typer.echo(f"  {problem}")
        raise typer.Exit(1) from None
    typer.echo(
        f"valid: {policy.key} {policy.version} ({len(policy.steps)} nodes, "
        f"hash {policy.content_hash[:12]})"
    )


@app.command("publish")
def publish(
    file: FileArg,
    db: DbOption = None,
    by: Annotated[str, typer.Option(help="Who publishes it.")] = "cli",
) -> None:
    """Store a bundle as an immutable, content-hashed version and make it active."""
    engine = make_engine(db)
    with unit_of_work(engine) as session:
        view, created = service.publish(
            session,
            Clock.system(),
            source_yaml=read_text(file),
            source_name=str(file),
            published_by=by,
        )
    state = "published" if created else "already published (same content)"
    typer.echo(f"{view.policy_key}@{view.version} {state}; hash {view.content_hash}")


@app.command("list")
def list_versions(
    db: DbOption = None,
    key: Annotated[str | None, typer.Option(help="Only this policy key.")] = None,
) -> None:
    """Every published version, marking the active one per key."""
    engine = make_engine(db)
    with unit_of_work(engine) as session:
        views = service.list_versions(session, policy_key=key)
    table = Table(title="Policy versions")
    for column in ("key", "version", "hash", "published", "by", "active"):
        table.add_column(column)
    for v in views:
        table.add_row(
            v.policy_key,
            v.version,
            v.content_hash[:12],
            v.published_at.strftime("%Y-%m-%d %H:%M"),
            v.published_by,
            "*" if v.active else "",
        )
    Console().print(table)


@app.command("show")
def show(
    key: str,
    db: DbOption = None,
    version: Annotated[str | None, typer.Option(help="Default: the active one.")] = None,
) -> None:
    """Print a stored version's YAML."""
    engine = make_engine(db)
    with unit_of_work(engine) as session:
        view, source = service.show(session, policy_key=key, version=version)
    typer.echo(
        f"# {view.policy_key}@{view.version} hash {view.content_hash}"
        f"{' (active)' if view.active else ''}"
    )
    typer.echo(source)


@app.command("rollback")
def rollback(
    key: str,
    db: DbOption = None,
    to: Annotated[str | None, typer.Option(help="Version to activate.")] = None,
) -> None:
    """Re-activate the previously active version (or the one given with --to)."""
    engine = make_engine(db)
    with unit_of_work(engine) as session:
        view = service.rollback(session, Clock.system(), policy_key=key, to_version=to)
    typer.echo(f"{view.policy_key}@{view.version} is active again")


@app.command("diff")
def diff(old: str, new: str, db: DbOption = None) -> None:
    """Rule-level changes from OLD to NEW (each a YAML file or KEY@VERSION in the database)."""
    changes = diff_bundles(_resolve(old, db).bundle, _resolve(new, db).bundle)
    for change in changes:
        typer.echo(str(change))
    typer.echo(f"{len(changes)} change(s)")


@app.command("evaluate")
def evaluate(
    policy_ref: Annotated[
        str, typer.Argument(metavar="POLICY", help="A policy YAML file or KEY@VERSION.")
    ],
    input_json: Annotated[str, typer.Option("--input", help="Features as JSON, or @file.json.")],
    lang: Annotated[str, typer.Option(help="Reason text language: en or zh.")] = "en",
    trace: Annotated[bool, typer.Option(help="Include the per-node trace.")] = True,
    db: DbOption = None,
) -> None:
    """Decide one account and print the decision, its reasons and the trace as JSON."""
    if lang not in ("en", "zh"):
        raise InvalidInput(f"'{lang}' is not a reason text language: use en or zh", field="lang")
    policy = _resolve(policy_ref, db)
    decision = PolicyEvaluator(policy).evaluate(_features(input_json))
    body = decision.to_dict(with_trace=trace)
    body["reasons"] = [{"code": r["code"], "text": r[lang]} for r in body["reasons"]]
    typer.echo(json.dumps(body, ensure_ascii=False, indent=2))


@app.command("sql")
def sql(
    file: FileArg,
    dialect: Annotated[str, typer.Option(help="duckdb or spark")] = "duckdb",
    table: Annotated[str, typer.Option(help="Table of features.")] = "book",
) -> None:
    """Print the whole-book SQL of a policy (DuckDB or Spark SQL)."""
    if dialect not in ("duckdb", "spark"):
        raise InvalidInput("dialect must be duckdb or spark", field="dialect")
    chosen: Dialect = "duckdb" if dialect == "duckdb" else "spark"
    typer.echo(compile_sql(load_file(file), table=table, dialect=chosen))


@app.command("python")
def python(
    file: FileArg,
    trusted: Annotated[
        bool, typer.Option("--trusted", help="The variant without the input check.")
    ] = False,
    kernel: Annotated[
        bool, typer.Option("--kernel", help="The whole-book kernel numba compiles instead.")
    ] = False,
) -> None:
    """Print the Python function the online evaluator (or the kernel) compiles a policy to."""
    policy = load_file(file)
    if kernel:
        typer.echo(ast.unparse(KernelFunction(policy).module()))
    else:
        typer.echo(DecisionFunction(policy).source(checked=not trusted))


def _resolve(ref: str, db: str | None) -> Policy:
    if Path(ref).is_file():
        return load_file(ref)
    key, sep, version = ref.partition("@")
    if not sep:
        raise InvalidInput(f"'{ref}' is neither a file nor KEY@VERSION", field="policy")
    with unit_of_work(make_engine(db)) as session:
        return service.load_policy(session, policy_key=key, version=version)


def _features(text: str) -> dict[str, Any]:
    data = read_json(text[1:]) if text.startswith("@") else parse_json(text, source="--input")
    if not isinstance(data, dict):
        raise InvalidInput("must be a JSON object of features", field="input")
    return data
