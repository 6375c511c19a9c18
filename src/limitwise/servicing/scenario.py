"""The scenario runner: replay a servicing story from a YAML file and check every expect.

The file format is a public contract documented in ``docs/scenarios.md``. Each step happens
on a business date; before it, COB closes every day since the previous step. Commands run
in their own transaction, exactly as the CLI or an API call would.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from limitwise.businessdate import service as business_dates
from limitwise.features import service as features
from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.kit.errors import InvalidInput, InvalidRequest, LimitwiseError, Problem
from limitwise.kit.files import read_text, read_yaml
from limitwise.kit.money import format_yuan, parse_amount_fen
from limitwise.ledger.check import check_trial_balance
from limitwise.lines import flows as line_flows
from limitwise.lines import service as lines
from limitwise.onboarding.flows import OnboardingContext
from limitwise.policy import service as policy_service
from limitwise.servicing import service
from limitwise.servicing.models import AccountStatus
from limitwise.servicing.schemas import AccountState, ProductSpec

MONEY_FIELDS = (
    "line",
    "available",
    "outstanding_principal",
    "interest_receivable",
    "penalty_receivable",
    "due_total",
    "credit_balance",
)
PLAIN_FIELDS = ("days_past_due", "bucket", "status", "apr")
ONE_DAY = dt.timedelta(days=1)
BOOL_TAG = "tag:yaml.org,2002:bool"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
#: Scenario dates lie in this range and one scenario spans at most this many days: COB
#: replays every day, so a step in year 9999 would run for hours.
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
MAX_SPAN_DAYS = 3660


class ScenarioLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false, so the step key ``on`` stays the string "on".

    Dates stay text too: the model parses them, so ``2026-02-30`` is refused naming its field.
    """


ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (BOOL_TAG, TIMESTAMP_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ScenarioLoader.add_implicit_resolver(
    BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _plausible(day: dt.date) -> dt.date:
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"a scenario date lies between {EARLIEST_DATE} and {LATEST_DATE}")
    return day


ScenarioDate = Annotated[dt.date, AfterValidator(_plausible)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpenAccount(_Strict):
    id: str
    line: str
    product: str | None = None


class DrawCommand(_Strict):
    account: str
    amount: Any
    repayment: str
    term_months: int | None = None
    key: str


class RepayCommand(_Strict):
    account: str
    amount: Any
    key: str
    effective_date: ScenarioDate | None = None


class AccountCommand(_Strict):
    account: str
    reason: str = "scenario step"


class SetLineCommand(_Strict):
    account: str
    line: str
    reason: str = "scenario step"


class ApplyCommand(_Strict):
    """An application through onboarding and the line decision; ``as`` names the account
    it opens for later steps."""

    as_: str = Field(alias="as")
    application: dict[str, Any]


class EventCommand(_Strict):
    account: str
    kind: str
    data: dict[str, Any] = Field(default_factory=dict)


class BureauUpdate(_Strict):
    account: str
    bureau_score: int | None = None
    multi_lender_count: int | None = None


class ReviewCommand(_Strict):
    account: str


class PublishPolicy(_Strict):
    """A policy bundle, inline (the YAML text) or a path relative to the repository."""

    source: str


class SetMacro(_Strict):
    risk_appetite: Decimal


class AdvanceTo(_Strict):
    """Nothing but the business-date roll up to the step's date."""


class Commands(_Strict):
    """The commands a step may run (exactly one per step)."""

    apply: ApplyCommand | None = None
    bureau_update: BureauUpdate | None = None
    event: EventCommand | None = None
    review: ReviewCommand | None = None
    publish_policy: PublishPolicy | None = None
    set_macro: SetMacro | None = None
    advance_to: AdvanceTo | None = None

    open_account: OpenAccount | None = None
    draw: DrawCommand | None = None
    repay: RepayCommand | None = None
    freeze: AccountCommand | None = None
    unfreeze: AccountCommand | None = None
    close: AccountCommand | None = None
    set_line: SetLineCommand | None = None

    def chosen(self) -> list[str]:
        return [name for name in COMMAND_NAMES if getattr(self, name) is not None]


COMMAND_NAMES = tuple(Commands.model_fields)


class ExpectError(Commands):
    code: str


class Step(Commands):
    on: ScenarioDate
    expect: dict[str, Any] | None = None
    expect_error: ExpectError | None = None

    @model_validator(mode="after")
    def _one_thing(self) -> Step:
        things = self.chosen() + [n for n in ("expect", "expect_error") if getattr(self, n)]
        if len(things) != 1:
            raise ValueError(f"a step does exactly one thing, this one has {things or 'none'}")
        if self.expect_error is not None and len(self.expect_error.chosen()) != 1:
            raise ValueError("expect_error names exactly one command and a code")
        return self


class Scenario(_Strict):
    name: str = ""
    description: str = ""
    product: dict[str, Any] | None = None
    products: list[dict[str, Any]] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Scenario:
        if self.product is not None and self.products:
            raise ValueError("give one product or a list of products, not both")
        days = [step.on for step in self.steps]
        if days != sorted(days):
            raise ValueError("steps must be in date order")
        if (days[-1] - days[0]).days > MAX_SPAN_DAYS:
            raise ValueError(f"steps span more than {MAX_SPAN_DAYS} days")
        return self

    def product_specs(self) -> list[ProductSpec]:
        """The scenario's products (none: the shipped products the line service opens)."""
        return [ProductSpec.parse(p) for p in ([self.product] if self.product else self.products)]


@dataclass(frozen=True)
class Check:
    step: int
    on: dt.date
    subject: str
    field: str
    expected: str
    actual: str

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


@dataclass
class ScenarioResult:
    checks: list[Check]
    accounts: list[AccountState]

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": [asdict(c) | {"on": c.on.isoformat(), "ok": c.ok} for c in self.checks],
            "accounts": [
                asdict(state) | {"draws": [service.draw_summary_dict(d) for d in state.draws]}
                for state in self.accounts
            ],
        }


def load_scenario(path: Path) -> Scenario:
    """Parse and validate a scenario file, naming the step and field of every problem."""
    data = read_yaml(path, loader=ScenarioLoader)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(
            problems=[Problem(_where(e["loc"]), e["type"], e["msg"]) for e in exc.errors()]
        ) from None


def _where(loc: tuple[int | str, ...]) -> str:
    """A problem's place in the file, counting steps from 1 as the check table does."""
    parts = list(loc)
    if len(parts) > 1 and parts[0] == "steps" and isinstance(parts[1], int):
        parts[1] += 1
    return ".".join(str(p) for p in parts) or "scenario"


def run_scenario(scenario: Scenario, *, url: str | None = None) -> ScenarioResult:
    """Replay ``scenario`` on a fresh database (in-memory SQLite unless ``url``)."""
    engine = make_engine(url or "sqlite://")
    try:
        migrate.upgrade_engine(engine)
        return _Runner(engine, scenario).run()
    finally:
        engine.dispose()


class _Runner:
    def __init__(self, engine: Engine, scenario: Scenario) -> None:
        self.engine = engine
        self.scenario = scenario
        self.specs = scenario.product_specs()
        self.checks: list[Check] = []
        self.clock = _midday(scenario.steps[0].on)
        self.lines = line_flows.default_context()
        self.aliases: dict[str, str] = {}
        self.applications: dict[str, str] = {}
        self.onboarding = OnboardingContext.from_settings()

    def run(self) -> ScenarioResult:
        with unit_of_work(self.engine) as session:
            if service.account_refs(session):
                raise InvalidInput(
                    "the scenario database must be empty", field="db", code="database_not_empty"
                )
            business_dates.start_simulation(session, self.clock, on=self.clock.today())
            for spec in self.specs:
                service.define_product(session, self.clock, spec=spec)
        line_flows.prepare(self.engine, self.clock, context=self.lines)
        for index, step in enumerate(self.scenario.steps, start=1):
            self._advance_to(step.on)
            self._run_step(index, step)
        with unit_of_work(self.engine) as session:
            report = check_trial_balance(session)
            accounts = [
                service.account_state(session, ref=ref, as_of=self.clock.today())
                for ref in service.account_refs(session)
            ]
        last = self.scenario.steps[-1]
        self.checks.append(
            Check(
                len(self.scenario.steps),
                last.on,
                "ledger",
                "trial_balance",
                "ok",
                "ok" if report.ok else "; ".join(report.problems),
            )
        )
        return ScenarioResult(self.checks, accounts)

    def _advance_to(self, day: dt.date) -> None:
        """Close every business day before ``day`` (COB), then start ``day``."""
        if day > self.clock.today():
            line_flows.roll(self.engine, self.clock, through=day - ONE_DAY, context=self.lines)
            self.clock = _midday(day)

    def _run_step(self, index: int, step: Step) -> None:
        if step.expect is not None:
            self._expect(index, step.on, step.expect)
            return
        if step.expect_error is not None:
            name = step.expect_error.chosen()[0]
            try:
                self._command(name, getattr(step.expect_error, name))
                actual = "no error"
            except LimitwiseError as exc:
                actual = exc.code
            self.checks.append(Check(index, step.on, name, "error", step.expect_error.code, actual))
            return
        name = step.chosen()[0]
        try:
            self._command(name, getattr(step, name))
        except LimitwiseError as exc:
            self.checks.append(Check(index, step.on, name, "error", "no error", str(exc)))

    def _command(self, name: str, command: Any) -> None:
        if isinstance(command, ApplyCommand):
            self._apply(command)
            return
        if isinstance(command, AdvanceTo):
            return
        with unit_of_work(self.engine) as session:
            self._in_session(session, name, command)
        line_flows.drain(self.engine, self.clock, context=self.lines)

    def _apply(self, command: ApplyCommand) -> None:
        outcome, decided = line_flows.apply(
            self.engine,
            self.clock,
            raw=command.application,
            onboarding=self.onboarding,
            context=self.lines,
        )
        if decided is None:
            raise InvalidInput(
                f"the application ended {outcome.status.value}, before a line decision",
                field="apply",
                code=f"application_{outcome.status.value}",
            )
        self.aliases[command.as_] = decided.account_ref or ""
        self.applications[command.as_] = decided.decision.decision_ref

    def _ref(self, name: str) -> str:
        return self.aliases.get(name, name)

    def _in_session(self, session: Session, name: str, command: Any) -> None:
        clock = self.clock
        if isinstance(command, OpenAccount):
            service.open_account(
                session,
                clock,
                ref=command.id,
                product_code=command.product or self.specs[0].name,
                line_fen=parse_amount_fen(command.line, field="line", allow_zero=True),
            )
        elif isinstance(command, DrawCommand):
            ref = self._ref(command.account)
            product = service.product_named(
                session, service.account_state(session, ref=ref, as_of=clock.today()).product
            )
            service.draw(
                session,
                clock,
                account_ref=ref,
                amount_fen=parse_amount_fen(command.amount, field="amount"),
                repayment_type=command.repayment,
                term_months=command.term_months or max(product.terms_months),
                key=command.key,
            )
        elif isinstance(command, RepayCommand):
            service.repay(
                session,
                clock,
                account_ref=self._ref(command.account),
                amount_fen=parse_amount_fen(command.amount, field="amount"),
                key=command.key,
                effective_date=command.effective_date,
            )
        elif isinstance(command, SetLineCommand):
            lines.operator_change(
                session,
                clock,
                ref=self._ref(command.account),
                line_fen=parse_amount_fen(command.line, field="line", allow_zero=True),
                note=command.reason,
            )
        elif isinstance(command, AccountCommand):
            status = {
                "freeze": AccountStatus.FROZEN,
                "unfreeze": AccountStatus.ACTIVE,
                "close": AccountStatus.CLOSED,
            }[name]
            lines.operator_change(
                session, clock, ref=self._ref(command.account), status=status, note=command.reason
            )
        else:
            self._line_command(session, command)

    def _line_command(self, session: Session, command: Any) -> None:
        clock = self.clock
        if isinstance(command, ReviewCommand):
            lines.review_account(session, clock, ref=self._ref(command.account), context=self.lines)
        elif isinstance(command, EventCommand):
            service.record_event(
                session,
                clock,
                ref=self._ref(command.account),
                kind=command.kind,
                payload=command.data,
            )
        elif isinstance(command, BureauUpdate):
            payload = command.model_dump(exclude={"account"}, exclude_none=True)
            service.record_event(
                session,
                clock,
                ref=self._ref(command.account),
                kind="bureau_update",
                payload=payload,
            )
        elif isinstance(command, SetMacro):
            features.record_macro(session, clock, risk_appetite=command.risk_appetite)
        elif isinstance(command, PublishPolicy):
            policy_service.publish(session, clock, source_yaml=_policy_text(command.source))

    def _expect(self, index: int, on: dt.date, expect: dict[str, Any]) -> None:
        fields = dict(expect)
        if "draw" in fields:
            self._expect_schedule(index, on, str(fields.pop("draw")), fields)
            return
        name = str(fields.pop("account", ""))
        ref = self._ref(name)
        with unit_of_work(self.engine) as session:
            state = service.account_state(session, ref=ref, as_of=on)
            events = service.account_events(session, ref=ref)
            actual = (
                _state_fields(state)
                | _line_fields(session, ref)
                | {
                    "bucket_events": [e["to"] for e in events if e["kind"] == "bucket_changed"],
                    "events": [e["kind"] for e in events],
                }
            )
        for field, expected in fields.items():
            if field not in actual:
                raise InvalidInput(
                    f"step {index}: cannot expect {field!r}; expectable: {sorted(actual)}",
                    field=f"steps.{index}.expect.{field}",
                    code="unknown_expect_field",
                )
            got = actual[field]
            if isinstance(expected, dict) and isinstance(got, dict):
                for part, wanted in expected.items():
                    self.checks.append(
                        Check(
                            index,
                            on,
                            name,
                            f"{field}.{part}",
                            _canonical(part, wanted),
                            str(got.get(part, "missing")),
                        )
                    )
            else:
                self.checks.append(
                    Check(index, on, name, field, _canonical(field, expected), str(got))
                )

    def _expect_schedule(self, index: int, on: dt.date, key: str, fields: dict[str, Any]) -> None:
        with unit_of_work(self.engine) as session:
            rows = [
                service.schedule_row_dict(v)
                for v in service.draw_schedule(session, key=key, as_of=on)
            ]
            state_draw = next(
                service.draw_summary_dict(d)
                for ref in service.account_refs(session)
                for d in service.account_state(session, ref=ref, as_of=on).draws
                if d.key == key
            )
        for field, expected in fields.items():
            if field == "schedule":
                for position, wanted in enumerate(expected, start=1):
                    seq = int(wanted.get("seq", position))
                    row = rows[seq - 1] if seq <= len(rows) else {}
                    for name, value in wanted.items():
                        self.checks.append(
                            Check(
                                index,
                                on,
                                f"{key}#{seq}",
                                name,
                                _canonical(name, value),
                                str(row.get(name, "missing")),
                            )
                        )
            elif field == "instalments":
                self.checks.append(Check(index, on, key, field, str(expected), str(len(rows))))
            else:
                self.checks.append(
                    Check(
                        index,
                        on,
                        key,
                        field,
                        _canonical(field, expected),
                        str(state_draw.get(field, "missing")),
                    )
                )


def _midday(day: dt.date) -> Clock:
    """A step happens at noon UTC of its business date (after that morning's consents)."""
    return Clock.fixed(day, at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))


def _policy_text(source: str) -> str:
    """Inline YAML, or a file under the repository's ``policies/``."""
    if "\n" in source:
        return source
    path = Path(source)
    if not path.is_file():
        raise InvalidInput(
            f"no policy file {source}", field="publish_policy.source", code="not_found"
        )
    return read_text(path)


def _canonical(field: str, value: Any) -> str:
    """Write an expected value the way the actual one is rendered (money as 0.00)."""
    money = field in MONEY_FIELDS or field in {
        "principal",
        "interest",
        "penalty",
        "fee",
        "total",
        "paid",
        "amount",
    }
    if money and not isinstance(value, (list, dict)):
        return format_yuan(parse_amount_fen(value, field=field, allow_zero=True))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return str({k: _canonical("line", v) for k, v in value.items()})
    return str(value)


def _line_fields(session: Session, ref: str) -> dict[str, Any]:
    """What the line service decided: sub-lines, the last decision, any announced change."""
    history = lines.history(session, ref=ref)
    last = history[-1] if history else None
    pending = lines.pending_change(session, ref=ref)
    return {
        "sub_lines": {k: format_yuan(v) for k, v in lines.sub_lines(session, ref=ref).items()},
        "last_decision": {}
        if last is None
        else {
            "action": last.action,
            "reasons": last.reason_codes,
            "effective": last.effective_on.isoformat(),
            "timing": last.timing,
            "trigger": last.trigger,
            "line": format_yuan(last.new_line_fen),
            "proposed": format_yuan(last.proposed_line_fen),
            "score": [card["score"] for card in last.scorecards if "score" in card],
            "guards": [a["guard"] for a in last.adjustments if a["guard"] != "no_increase"],
            "blocked_by": [
                a["detail"].split(" ", 1)[0]
                for a in last.adjustments
                if a["guard"] == "no_increase"
            ],
        },
        "decisions": len(history),
        "pending_change": "none"
        if pending is None
        else {
            "action": pending["action"],
            "line": format_yuan(pending["line_fen"]),
            "effective": pending["effective_on"],
        },
    }


def _state_fields(state: AccountState) -> dict[str, Any]:
    return {
        "line": format_yuan(state.line_fen),
        "available": format_yuan(state.available_fen),
        "outstanding_principal": format_yuan(state.outstanding_principal_fen),
        "interest_receivable": format_yuan(state.interest_receivable_fen),
        "penalty_receivable": format_yuan(state.penalty_receivable_fen),
        "due_total": format_yuan(state.due_total_fen),
        "credit_balance": format_yuan(state.credit_balance_fen),
        "days_past_due": state.days_past_due,
        "bucket": state.bucket,
        "status": state.status,
        "apr": state.apr,
        "draws": len(state.draws),
    }
