"""``limitwise apply`` and ``limitwise onboarding ...``: submit and inspect applications."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from limitwise.businessdate import service as business_dates
from limitwise.businessdate.flows import command_clock
from limitwise.kit import migrate
from limitwise.kit.cli import AsOfOption, DbOption, NewDbOption, as_date, command_group
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.kit.errors import InvalidRequest, Problem
from limitwise.kit.files import read_json
from limitwise.kit.money import format_yuan
from limitwise.lines import flows as line_flows
from limitwise.lines.schemas import ApplicationDecision
from limitwise.onboarding import service
from limitwise.onboarding.flows import OnboardingContext
from limitwise.onboarding.pii import PiiVault
from limitwise.onboarding.schemas import ApplicationOutcome

app = command_group("Applications, invitations and the PII vault.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")]


def print_json(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def print_problems(problems: list[Problem], console: Console) -> None:
    table = Table(title=f"Application refused: {len(problems)} problem(s), nothing stored")
    for column in ("field", "rule", "problem"):
        table.add_column(column)
    for problem in problems:
        table.add_row(problem.field, problem.rule, problem.message)
    console.print(table)


def print_outcome(outcome: ApplicationOutcome, console: Console) -> None:
    console.print(
        f"application [bold]{outcome.application_ref}[/bold] for {outcome.masked_resident_id}: "
        f"[bold]{outcome.status.value}[/bold] (policy {outcome.policy_version})"
    )
    if outcome.duplicate_of:
        console.print(f"  duplicate of {outcome.duplicate_of}")
    for reason in outcome.reasons:
        console.print(f"  - {reason.code}: {reason.message}")
    checks = Table(title="Checks")
    for column in ("check", "result", "code", "detail"):
        checks.add_column(column)
    for check in outcome.checks:
        verdict = {True: "pass", False: "FAIL", None: "n/a"}[check.passed]
        checks.add_row(check.name, verdict, check.code, check.detail)
    console.print(checks)
    if outcome.facts is None:
        return
    facts = outcome.facts
    data = Table(title="Facts for the line decision")
    for column in ("source", "quality", "as of", "facts"):
        data.add_column(column)
    for answer in facts.results():
        summary = ", ".join(f"{k}={v}" for k, v in (answer.facts_dict() or {}).items())
        as_of = answer.data_as_of.isoformat() if answer.data_as_of else ""
        quality = answer.quality.value + (f" ({answer.reason})" if answer.reason else "")
        data.add_row(answer.kind.value, quality, as_of, summary)
    console.print(data)
    console.print(
        f"declared monthly income {format_yuan(facts.declared_monthly_income_fen)} yuan, "
        f"age {facts.identity.age_years}, region {facts.identity.region_name}"
    )


def apply(
    file: Annotated[Path, typer.Argument(help="Application JSON (see docs/onboarding.md).")],
    db: NewDbOption = None,
    as_of: AsOfOption = None,
    as_json: JsonOption = False,
) -> None:
    """Submit an application from a JSON file and print the outcome."""
    console = Console()
    try:
        raw = read_json(file)
        context = OnboardingContext.from_settings()
        lines = line_flows.default_context()
        migrate.upgrade(db)
        engine = make_engine(db)
        try:
            clock = command_clock(engine, as_date(as_of))
            line_flows.prepare(engine, clock, context=lines)
            outcome, decision = line_flows.apply(
                engine, clock, raw=raw, onboarding=context, context=lines
            )
        finally:
            engine.dispose()
    except InvalidRequest as exc:
        if as_json:
            print_json(exc.to_dict())
        else:
            print_problems(exc.problems, Console(stderr=True))
        raise typer.Exit(2) from None
    if as_json:
        print_json(outcome.to_dict() | {"line_decision": decision.to_dict() if decision else None})
        return
    print_outcome(outcome, console)
    if decision is not None:
        print_line_decision(decision, console)


def print_line_decision(result: ApplicationDecision, console: Console) -> None:
    decision = result.decision
    console.print(
        f"line decision [bold]{decision.action}[/bold] by {decision.policy} "
        f"({decision.decision_ref})"
    )
    for reason in decision.reasons:
        console.print(f"  - {reason['code']}: {reason['en']}")
    for adjustment in decision.adjustments:
        console.print(f"  line service: {adjustment['guard']}: {adjustment['detail']}")
    if result.account_ref is None:
        return
    console.print(
        f"account [bold]{result.account_ref}[/bold] opened on {result.product}: line "
        f"{format_yuan(decision.new_line_fen)} yuan, APR {result.apr}"
    )
    for name, amount in decision.sub_lines.items():
        console.print(f"  sub-line {name}: {format_yuan(amount)} yuan")


@app.command("show")
def show(
    application_ref: Annotated[str, typer.Argument(help="Application reference (app_...).")],
    db: DbOption = None,
) -> None:
    """Show a stored application: masked inputs, consents, checks and outcome."""
    engine = make_engine(db)
    with unit_of_work(engine) as session:
        view = service.application_view(session, application_ref=application_ref)
    typer.echo(f"{view.application_ref} {view.status} on {view.business_date}")
    consents = [
        {"purpose": p, "text_version": v, "granted_at": t.isoformat()} for p, v, t in view.consents
    ]
    print_json(
        {
            "inputs": view.inputs,
            "consents": consents,
            "provider_responses": view.provider_responses,
            "outcome": view.outcome,
        }
    )


@app.command("invite")
def invite(
    resident_id: Annotated[str, typer.Argument(help="Resident ID number to pre-approve.")],
    campaign: Annotated[str, typer.Option(help="Campaign or list name.")] = "default",
    valid_until: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last valid day.")
    ] = None,
    db: DbOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Put a person on the invitation (pre-approved) list."""
    migrate.upgrade(db)
    engine = make_engine(db)
    with unit_of_work(engine) as session:
        masked = service.invite(
            session,
            business_dates.clock_for(session, as_date(as_of)),
            vault=PiiVault.from_settings(),
            resident_id=resident_id,
            campaign=campaign[:64],
            valid_until=as_date(valid_until),
        )
    typer.echo(f"invited {masked} ({campaign})")


@app.command("rotate-keys")
def rotate_keys(db: DbOption = None) -> None:
    """Re-encrypt every application's identifiers under the newest PII key."""
    vault = PiiVault.from_settings()
    engine = make_engine(db)
    with unit_of_work(engine) as session:
        rotated = service.rotate_pii_keys(session, vault=vault)
        usage = service.key_usage(session)
    typer.echo(f"re-encrypted {rotated} application(s) under key {vault.active_key_id}")
    for key_id, count in sorted(usage.items()):
        typer.echo(f"  key {key_id}: {count} application(s)")
