"""Servicing operations. Services never commit: callers own the transaction.

Every operation on a credit account first locks its ``credit_accounts`` row, so status
checks, draws, repayments and COB on one account are serialised; the ledger then locks its
own accounts in id order.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from limitwise.businessdate import service as business_dates
from limitwise.kit.clock import Clock
from limitwise.kit.errors import Conflict, InvalidInput, LimitwiseError, NotFound, Refused
from limitwise.kit.ids import new_id
from limitwise.kit.money import format_yuan
from limitwise.ledger import service as ledger
from limitwise.ledger.chart import CreditPurpose, LenderPurpose, credit_code, lender_code
from limitwise.ledger.idempotency import run_idempotent
from limitwise.ledger.schemas import Leg, Share
from limitwise.servicing import book as engine
from limitwise.servicing import queries, repository
from limitwise.servicing.models import (
    AccountEvent,
    AccountStatus,
    Allocation,
    CobFailure,
    CreditAccount,
    Draw,
    DrawStatus,
    Instalment,
    Product,
    Repayment,
    ServicingPosting,
)
from limitwise.servicing.schedule import RepaymentType, plan_schedule, schedule_apr
from limitwise.servicing.schemas import (
    AccountState,
    CobFailureView,
    DrawResult,
    DrawView,
    InstalmentState,
    InstalmentView,
    ProductSpec,
    RepaymentResult,
)

ONE_DAY = dt.timedelta(days=1)
CREDIT_BALANCE_COMPONENT = "credit_balance"
#: How much of an error message a COB failure row keeps.
COB_ERROR_CHARS = 2000
#: The lender's income account each accrual receivable is posted against.
INCOME_OF = {
    CreditPurpose.INTEREST: LenderPurpose.INTEREST_INCOME,
    CreditPurpose.PENALTY: LenderPurpose.PENALTY_INCOME,
}


class AccountFrozen(Refused):
    code = "account_frozen"


class AccountClosed(Refused):
    code = "account_closed"


class AccountDelinquent(Refused):
    code = "account_delinquent"


class CreditBalanceAboveCap(Refused):
    code = "credit_balance_above_cap"


class CobInProgress(LimitwiseError):
    """Close of business has closed the account's day but not yet advanced the business
    date: the request is dated on the next day once it has."""

    code = "cob_in_progress"
    http_status = 503
    retry_after_seconds = 5


# --- products and accounts -------------------------------------------------------------------


def define_product(session: Session, clock: Clock, *, spec: ProductSpec) -> ProductSpec:
    """Store a product definition; defining the same product again is a no-op."""
    definition = spec.model_dump_json()
    existing = repository.find_product(session, spec.name)
    if existing is None:
        repository.add(
            session, Product(code=spec.name, definition_json=definition, created_at=clock.now())
        )
    elif parse_product(existing.definition_json) != spec:
        raise Conflict(
            f"product {spec.name!r} already exists with a different definition",
            code="product_exists",
            field="product.name",
        )
    return spec


def find_product(session: Session, code: str) -> ProductSpec | None:
    product = repository.find_product(session, code)
    return None if product is None else parse_product(product.definition_json)


def product_named(session: Session, code: str) -> ProductSpec:
    product = repository.find_product(session, code)
    if product is None:
        raise NotFound(f"no product {code!r}", field="product")
    return parse_product(product.definition_json)


def open_account(
    session: Session,
    clock: Clock,
    *,
    ref: str,
    product_code: str,
    line_fen: int,
    decision_id: int | None = None,
) -> None:
    """Open a credit account with its ledger books; reopening the same account is a no-op.

    ``decision_id`` is the recorded application decision that granted the line (None only
    when an operator opens an account directly, as the demo book does)."""
    product_row = repository.find_product(session, product_code)
    if product_row is None:
        raise NotFound(f"no product {product_code!r}", field="product")
    product = parse_product(product_row.definition_json)
    _check_line_in_product(product, line_fen)
    existing = repository.find_account(session, ref)
    if existing is not None:
        if existing.product_id != product_row.id:
            raise Conflict(
                f"account {ref!r} already exists with another product",
                code="account_exists",
                field="id",
            )
        return
    if not ref or len(ref) > 64:
        raise InvalidInput("account id must be 1 to 64 characters", field="id", code="bad_id")
    repository.add(
        session,
        CreditAccount(
            ref=ref,
            product_id=product_row.id,
            line_fen=line_fen,
            status=AccountStatus.ACTIVE.value,
            opened_on=clock.today(),
            cob_through=None,
            days_past_due=0,
            bucket=product.bucket_for(0),
            next_seq=1,
            line_decision_id=decision_id,
            created_at=clock.now(),
        ),
    )
    ledger.open_credit_books(session, clock, owner_ref=ref, line_fen=line_fen)


def change_line(
    session: Session, clock: Clock, *, ref: str, line_fen: int, decision_id: int
) -> None:
    """Set a new line as recorded decision ``decision_id`` decided (a cut below the
    outstanding principal only stops further draws). Only ``limitwise.lines`` calls this;
    the database refuses a decision id that was never recorded."""
    account = _lock(session, ref)
    if account.status == AccountStatus.CLOSED:
        raise AccountClosed(f"account {ref} is closed", field="account")
    product = _product_of(session, account)
    if line_fen > product.max_line_fen:
        raise InvalidInput(
            f"line {format_yuan(line_fen)} is above the product maximum of {product.max_line}",
            field="line",
            code="line_above_product_max",
        )
    before = account.line_fen
    ledger.set_line(session, owner_ref=ref, line_fen=line_fen)
    account.line_fen = line_fen
    account.line_decision_id = decision_id
    _emit(
        session,
        clock,
        account,
        "line_changed",
        {"from_fen": before, "to_fen": line_fen, "decision_id": decision_id},
    )


def set_status(
    session: Session, clock: Clock, *, ref: str, status: AccountStatus, decision_id: int
) -> None:
    """Freeze, unfreeze or close an account as recorded decision ``decision_id`` decided.
    Closing is final."""
    account = _lock(session, ref)
    if account.status == status:
        return
    if account.status == AccountStatus.CLOSED:
        raise AccountClosed(f"account {ref} is closed; it cannot become {status}", field="status")
    before = account.status
    account.status = status.value
    account.line_decision_id = decision_id
    _emit(
        session,
        clock,
        account,
        "status_changed",
        {"from": before, "to": status.value, "decision_id": decision_id},
    )


def record_event(
    session: Session, clock: Clock, *, ref: str, kind: str, payload: dict[str, Any]
) -> int:
    """Record something that happened to an account outside servicing (a bureau refresh,
    a device or login anomaly, confirmed fraud); returns the event id."""
    account = repository.find_account(session, ref)
    if account is None:
        raise NotFound(f"no credit account {ref!r}", field="account")
    return _emit(session, clock, account, kind, payload)


# --- draws -----------------------------------------------------------------------------------


def draw(
    session: Session,
    clock: Clock,
    *,
    account_ref: str,
    amount_fen: int,
    repayment_type: str,
    term_months: int,
    key: str,
) -> DrawResult:
    """Borrow under the line: reserve it (refused if over the available line), disburse, and
    fix the schedule. Idempotent on ``key``."""
    request = {
        "account": account_ref,
        "amount_fen": amount_fen,
        "repayment_type": repayment_type,
        "term_months": term_months,
    }

    def action() -> DrawResult:
        account = _lock_caught_up(session, clock, account_ref)
        _check_no_cob_in_flight(session, account)
        _check_can_draw(account, clock)
        product = _product_of(session, account)
        _check_not_delinquent(session, account, product, clock.today())
        kind = _check_draw_terms(product, amount_fen, repayment_type, term_months)
        plan = plan_schedule(
            amount_fen=amount_fen,
            repayment_type=kind,
            term_months=term_months,
            drawn_on=clock.today(),
            daily_rate_bps=product.daily_rate_bps,
        )
        apr = schedule_apr(clock.today(), amount_fen, plan)
        if apr > product.apr_cap:
            raise Refused(
                f"the APR of this draw, {apr:.2%}, is above the cap of {product.apr_cap:.2%}",
                code="apr_above_cap",
                field="repayment",
            )
        hold = ledger.reserve(
            session,
            clock,
            debit_code=credit_code(account_ref, CreditPurpose.PRINCIPAL),
            credit_code=lender_code(LenderPurpose.FUNDING),
            amount_fen=amount_fen,
        )
        entry = ledger.post_hold(
            session, clock, hold_ref=hold.hold_ref, description=f"draw {key} by {account_ref}"
        )
        row = Draw(
            ref=new_id("draw"),
            idempotency_key=key,
            credit_account_id=account.id,
            seq=_next_seq(account),
            amount_fen=amount_fen,
            repayment_type=kind.value,
            term_months=term_months,
            drawn_on=clock.today(),
            daily_rate_bps=str(product.daily_rate_bps),
            penalty_rate_bps=str(product.penalty_rate_bps),
            early_repayment_fee_bps=str(product.early_repayment_fee_bps),
            apr=str(apr),
            principal_outstanding_fen=amount_fen,
            accrual_remainder_nfen=0,
            status=DrawStatus.OPEN.value,
            disbursement_entry_ref=entry.entry_ref,
        )
        repository.add(session, row)
        repository.add_all(
            session,
            [
                Instalment(
                    draw_id=row.id,
                    seq=item.seq,
                    period_start=item.period_start,
                    due_date=item.due_date,
                    principal_due_fen=item.principal_fen,
                    interest_scheduled_fen=item.interest_fen,
                )
                for item in plan
            ],
        )
        _emit(session, clock, account, "drawn", {"amount_fen": amount_fen, "draw": row.ref})
        return DrawResult(
            ref=row.ref,
            key=key,
            account=account_ref,
            amount_fen=amount_fen,
            repayment_type=kind.value,
            term_months=term_months,
            drawn_on=row.drawn_on,
            apr=format_apr(apr),
            entry_ref=entry.entry_ref,
        )

    return run_idempotent(
        session,
        clock,
        key=key,
        command="draw",
        request=request,
        action=action,
        dump=DrawResult.to_dict,
        load=DrawResult.from_dict,
    )


# --- repayments ------------------------------------------------------------------------------


def repay(
    session: Session,
    clock: Clock,
    *,
    account_ref: str,
    amount_fen: int,
    key: str,
    effective_date: dt.date | None = None,
) -> RepaymentResult:
    """Take a repayment and allocate it by the product's waterfall; what no slot takes
    becomes a credit balance. A repayment dated on a day COB already closed replays the
    account from disbursement with reversing entries. Idempotent on ``key``."""
    effective = effective_date or clock.today()
    if effective > clock.today():
        raise InvalidInput(
            f"a repayment cannot be dated after the business date {clock.today()}",
            field="effective_date",
            code="repayment_in_future",
        )
    # the request as the client sent it: a retry after midnight must match the original
    sent_date = effective_date.isoformat() if effective_date is not None else None
    request = {"account": account_ref, "amount_fen": amount_fen, "effective": sent_date}

    def action() -> RepaymentResult:
        if amount_fen <= 0:
            raise InvalidInput(
                "amount must be greater than zero", field="amount", code="amount_not_positive"
            )
        account = _lock_caught_up(session, clock, account_ref)
        if effective_date is None:  # dated by the business date, not backdated by the caller
            _check_no_cob_in_flight(session, account)
        if effective < account.opened_on:
            raise InvalidInput(
                f"a repayment cannot be dated before the account opened on {account.opened_on}",
                field="effective_date",
                code="repayment_before_opening",
            )
        repayment = Repayment(
            ref=new_id("rep"),
            idempotency_key=key,
            credit_account_id=account.id,
            seq=_next_seq(account),
            amount_fen=amount_fen,
            effective_date=effective,
            received_on=clock.today(),
        )
        repository.add(session, repayment)
        book = _load_book(session, account)
        backdated = account.cob_through is not None and effective <= account.cob_through
        if backdated:
            outcome = _replay(session, clock, book)[repayment.id]
        else:
            outcome = _apply_repayment(session, clock, book, repayment)
        if outcome.leftover_fen:
            _check_credit_balance_cap(session, book, amount_fen)
        _emit(
            session,
            clock,
            account,
            "repaid",
            {
                "amount_fen": amount_fen,
                "repayment": repayment.ref,
                "effective": effective.isoformat(),
            },
        )
        return RepaymentResult(
            ref=repayment.ref,
            key=key,
            account=account_ref,
            amount_fen=amount_fen,
            effective_date=effective,
            allocated_fen=outcome.total_by_component(),
            credit_balance_fen=outcome.leftover_fen,
            replayed=backdated,
        )

    return run_idempotent(
        session,
        clock,
        key=key,
        command="repay",
        request=request,
        action=action,
        dump=RepaymentResult.to_dict,
        load=RepaymentResult.from_dict,
    )


# --- close of business -----------------------------------------------------------------------


class CobStepFailed(Exception):
    """Closing an account failed: on which day, in which step, and why."""

    def __init__(self, *, day: dt.date, step: str, cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.day = day
        self.step = step


@contextmanager
def _cob_step(day: dt.date, step: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        raise CobStepFailed(day=day, step=step, cause=exc) from exc


def close_business_days(
    session: Session, clock: Clock, *, account_ref: str, through: dt.date
) -> int:
    """Close every business day of the account up to ``through`` not closed yet (COB).

    Returns how many days were closed; a day already closed is never closed again. Raises
    :class:`CobStepFailed` naming the day and step (``lock``, ``load``, ``close_day``,
    ``write``) that failed.
    """
    with _cob_step(through, "lock"):
        account = _lock(session, account_ref)
    first = account.cob_through + ONE_DAY if account.cob_through else account.opened_on
    if first > through:
        return 0
    with _cob_step(first, "load"):
        book = _load_book(session, account)
    day = first
    while day <= through:
        with _cob_step(day, "close_day"):
            _close_day(session, clock, book, day, emit_events=True)
        day += ONE_DAY
    with _cob_step(through, "write"):
        account.cob_through = through
        session.flush()
    return (through - first).days + 1


def close_or_record_failure(
    session: Session, clock: Clock, *, account_ref: str, through: dt.date, retry: bool = False
) -> int | None:
    """Close the account's days in its own savepoint. On failure only this account's work
    is rolled back and the failure is recorded (``None`` is returned); on success the
    number of days closed is returned and, for a ``retry`` of a recorded failure, the
    failure is cleared."""
    try:
        with session.begin_nested():
            days = close_business_days(session, clock, account_ref=account_ref, through=through)
    except CobStepFailed as failed:
        _record_cob_failure(session, clock, account_ref, failed)
        return None
    if retry:
        clear_cob_failure(session, account_ref)
    return days


def clear_cob_failure(session: Session, account_ref: str) -> None:
    """The account closed: forget its recorded failure."""
    repository.clear_cob_failure(session, account_id(session, account_ref))


def cob_failures(session: Session) -> list[CobFailureView]:
    """What close of business could not close, per account (retried by the next run)."""
    return [
        CobFailureView(
            account=ref,
            business_date=row.business_date,
            step=row.step,
            error=row.error,
            attempts=row.attempts,
        )
        for ref, row in repository.cob_failures(session)
    ]


def failed_account_refs(session: Session) -> list[str]:
    return repository.failed_account_refs(session)


def _record_cob_failure(
    session: Session, clock: Clock, account_ref: str, failed: CobStepFailed
) -> None:
    account = repository.find_account(session, account_ref)
    if account is None:  # the account itself is gone: nothing to attach the failure to
        raise failed
    error = str(failed)[:COB_ERROR_CHARS]
    row = repository.find_cob_failure(session, account.id)
    if row is None:
        repository.add(
            session,
            CobFailure(
                credit_account_id=account.id,
                business_date=failed.day,
                step=failed.step,
                error=error,
                attempts=1,
                failed_at=clock.now(),
            ),
        )
        return
    row.business_date, row.step, row.error = failed.day, failed.step, error
    row.attempts += 1
    row.failed_at = clock.now()
    session.flush()


def accounts_behind(session: Session, *, as_of: dt.date) -> list[str]:
    """Accounts with a business day up to ``as_of`` that COB has not closed yet."""
    return repository.accounts_behind(session, as_of)


def account_refs(session: Session) -> list[str]:
    return repository.account_refs(session)


def _close_day(
    session: Session, clock: Clock, book: engine.Book, day: dt.date, *, emit_events: bool
) -> None:
    """The COB pipeline for one account and day: accrue → mark due (on a due date, settle
    what is due from the credit balance) → mark overdue and charge penalty → DPD and
    bucket → events. Interest and penalty of a day are one ledger entry (two on due dates)."""
    legs = _income_legs(book, CreditPurpose.INTEREST, engine.accrue_interest(book, day))
    if engine.falls_due(book, day):
        _post(session, clock, book, "accrual", day, legs)
        legs = []
        _settle_due_from_credit_balance(session, clock, book, day)
    legs += _income_legs(book, CreditPurpose.PENALTY, engine.accrue_penalty(book, day))
    _post(session, clock, book, "accrual", day, legs)
    engine.refresh_draw_status(book, day)
    _update_delinquency(session, clock, book, day + ONE_DAY, emit_events=emit_events)


def _settle_due_from_credit_balance(
    session: Session, clock: Clock, book: engine.Book, day: dt.date
) -> None:
    """Pay what is due by ``day`` out of an earlier overpayment, by the waterfall."""
    if engine.due_total(book, day) == 0:
        return
    ref = book.account.ref
    available = -ledger.balance(session, credit_code(ref, CreditPurpose.CREDIT_BALANCE)).balance_fen
    if available <= 0:
        return
    slots = [s for s in book.product.waterfall if not s.startswith("in_advance.")]
    outcome = engine.allocate(book, day=day, amount_fen=available, slots=slots)
    used = available - outcome.leftover_fen
    if used == 0:
        return
    accelerated = outcome.accelerated_interest_fen
    _post(
        session,
        clock,
        book,
        "accrual",
        day,
        _income_legs(book, CreditPurpose.INTEREST, accelerated),
    )
    legs = [Leg(credit_code(ref, CreditPurpose.CREDIT_BALANCE), used), *_paid_legs(book, outcome)]
    _post(session, clock, book, "credit_applied", day, legs)
    _record_allocations(session, book, outcome, repayment_id=None, day=day, leftover=False)


def _update_delinquency(
    session: Session, clock: Clock, book: engine.Book, as_of: dt.date, *, emit_events: bool
) -> None:
    account = book.account
    dpd = engine.days_past_due(book, as_of)
    bucket = book.product.bucket_for(dpd)
    if bucket != account.bucket and emit_events:
        _emit(
            session,
            clock,
            account,
            "bucket_changed",
            {"from": account.bucket, "to": bucket, "days_past_due": dpd},
            as_of=as_of,
        )
    account.days_past_due = dpd
    account.bucket = bucket


# --- reading ---------------------------------------------------------------------------------


def account_state(
    session: Session, *, ref: str, as_of: dt.date, paid_off: bool = True
) -> AccountState:
    """The account as of the start of ``as_of`` (after COB closed the day before).
    Without ``paid_off`` its draws are the open ones only, so the read costs what they do,
    not what the account's history does (nothing is due on a paid-off draw)."""
    account = _account_and_product(session, ref)
    book = _load_book(session, account, open_only=not paid_off)
    balances = ledger.balances_of_owner(session, ref)
    principal = balances[CreditPurpose.PRINCIPAL.value]
    dpd = engine.days_past_due(book, as_of)
    latest = repository.latest_draw(session, account.id)
    return AccountState(
        ref=ref,
        product=book.product.name,
        status=account.status,
        line_fen=account.line_fen,
        available_fen=principal.available_fen or 0,
        outstanding_principal_fen=principal.balance_fen,
        interest_receivable_fen=balances[CreditPurpose.INTEREST.value].balance_fen,
        penalty_receivable_fen=balances[CreditPurpose.PENALTY.value].balance_fen,
        due_total_fen=engine.due_total(book, as_of),
        credit_balance_fen=-balances[CreditPurpose.CREDIT_BALANCE.value].balance_fen,
        days_past_due=dpd,
        bucket=book.product.bucket_for(dpd),
        apr=format_apr(Decimal(latest.apr)) if latest else None,
        draws=[
            _draw_view(d, [_instalment_view(d, inst, as_of) for inst in book.schedule_of(d)])
            for d in book.draws
        ],
    )


def account_snapshot(session: Session, *, ref: str) -> dict[str, Any]:
    """What the audit log digests of an account: its line, status and ledger balances.

    It takes the account's lock (kept until the transaction ends), so a snapshot taken
    before a change is of the state the change applies to, not of one a concurrent change
    is about to replace."""
    account = _lock(session, ref)
    balances = ledger.balances_of_owner(session, ref)
    return {
        "ref": ref,
        "line_fen": account.line_fen,
        "status": account.status,
        "balances_fen": {purpose: b.balance_fen for purpose, b in balances.items()},
    }


def draw_schedule(session: Session, *, key: str, as_of: dt.date) -> list[InstalmentView]:
    """The schedule of the draw made with idempotency key ``key``, as it stands."""
    row = repository.find_draw_by_key(session, key)
    if row is None:
        raise NotFound(f"no draw with key {key!r}", field="draw")
    return _schedule_view(session, row, as_of)


def draw_of_account(session: Session, *, ref: str, draw_ref: str, as_of: dt.date) -> DrawView:
    """One draw of account ``ref`` with its schedule; a draw of another account is as
    unknown as a draw that does not exist."""
    account_of_draw = account_id(session, ref)
    row = repository.find_draw(session, draw_ref)
    if row is None or row.credit_account_id != account_of_draw:
        raise NotFound(f"no draw {draw_ref!r} on credit account {ref!r}", field="draw")
    return _draw_view(row, _schedule_view(session, row, as_of))


def _schedule_view(session: Session, row: Draw, as_of: dt.date) -> list[InstalmentView]:
    return [
        _instalment_view(row, inst, as_of) for inst in repository.instalments_of(session, [row.id])
    ]


def account_events(session: Session, *, ref: str | None = None) -> list[dict[str, Any]]:
    account_id = None
    if ref is not None:
        account = repository.find_account(session, ref)
        if account is None:
            raise NotFound(f"no credit account {ref!r}", field="account")
        account_id = account.id
    return [
        {"account_id": e.credit_account_id, "kind": e.kind, "as_of": e.as_of.isoformat()}
        | json.loads(e.payload_json)
        for e in repository.events_of(session, account_id)
    ]


def format_apr(apr: Decimal) -> str:
    """APR as borrowers see it, e.g. ``14.38%``."""
    return f"{apr * 100:.2f}%"


def account_id(session: Session, ref: str) -> int:
    account = repository.find_account(session, ref)
    if account is None:
        raise NotFound(f"no credit account {ref!r}", field="account")
    return account.id


def lock_account(session: Session, ref: str) -> int:
    """Take the account's row lock (serialising it with draws, repayments and COB) and
    return its id."""
    return _lock(session, ref).id


# --- internals -------------------------------------------------------------------------------


def _lock(session: Session, ref: str) -> CreditAccount:
    return _account_and_product(session, ref, lock=True)


def _account_and_product(session: Session, ref: str, *, lock: bool = False) -> CreditAccount:
    """The account, its product read in the same round trip and kept for the session."""
    found = repository.account_with_product(session, ref, lock=lock)
    if found is None:
        raise NotFound(f"no credit account {ref!r}", field="account")
    account, definition_json = found
    _products(session)[account.product_id] = parse_product(definition_json)
    return account


class AccountBehindCob(Refused):
    code = "account_behind_cob"


def _lock_caught_up(session: Session, clock: Clock, ref: str) -> CreditAccount:
    """Lock the account and first close the days before today that close of business has
    not closed for it yet (it failed on the account, or a run is still on its way to it),
    so a live command never lands on an account whose earlier days are still open."""
    account = _lock(session, ref)
    yesterday = clock.today() - ONE_DAY
    if account.cob_through is None or account.cob_through >= yesterday:
        return account
    try:
        with session.begin_nested():
            close_business_days(session, clock, account_ref=ref, through=yesterday)
    except CobStepFailed as failed:
        raise AccountBehindCob(
            f"account {ref} could not be brought up to {yesterday} by close of business "
            f"({failed}); it is kept in cob_failures and retried by the next run",
            field="account",
        ) from failed
    return account


@functools.lru_cache(maxsize=256)
def parse_product(definition_json: str) -> ProductSpec:
    """A stored product definition, parsed once: COB reads it for every account."""
    return ProductSpec.model_validate_json(definition_json)


#: ``Session.info`` key of the products the session has read (products never change).
_SESSION_PRODUCTS = "limitwise.servicing.products"


def _products(session: Session) -> dict[int, ProductSpec]:
    products: dict[int, ProductSpec] = session.info.setdefault(_SESSION_PRODUCTS, {})
    return products


def _product_of(session: Session, account: CreditAccount) -> ProductSpec:
    """The account's product, read once per session."""
    products = _products(session)
    if account.product_id not in products:
        row = repository.get_product(session, account.product_id)
        products[account.product_id] = parse_product(row.definition_json)
    return products[account.product_id]


def _next_seq(account: CreditAccount) -> int:
    seq = account.next_seq
    account.next_seq = seq + 1
    return seq


def _check_line_in_product(product: ProductSpec, line_fen: int) -> None:
    if not product.min_line_fen <= line_fen <= product.max_line_fen:
        raise InvalidInput(
            f"line {format_yuan(line_fen)} is outside the product's range "
            f"{product.min_line}–{product.max_line}",
            field="line",
            code="line_out_of_product_range",
        )


def _check_no_cob_in_flight(session: Session, account: CreditAccount) -> None:
    """Under the account's lock: an account closed through the stored business date is one
    a close of business has closed and not yet moved the date past. Dated on that day, a
    draw would be refused as on a closed day and a repayment replay the account."""
    closed = account.cob_through
    if closed is not None and closed >= business_dates.business_date(session):
        raise CobInProgress(
            f"close of business has closed {closed} for account {account.ref} but not yet "
            "advanced the business date (a run in progress, or one that stopped before its "
            "end: `cob run` finishes it); retry shortly",
            field="account",
        )


def _check_can_draw(account: CreditAccount, clock: Clock) -> None:
    if account.status == AccountStatus.FROZEN:
        raise AccountFrozen(f"account {account.ref} is frozen: no new draws", field="account")
    if account.status == AccountStatus.CLOSED:
        raise AccountClosed(f"account {account.ref} is closed: no new draws", field="account")
    if account.cob_through is not None and account.cob_through >= clock.today():
        raise Refused(
            f"business day {clock.today()} is already closed for account {account.ref}",
            code="business_day_closed",
            field="account",
        )


def _check_not_delinquent(
    session: Session, account: CreditAccount, product: ProductSpec, today: dt.date
) -> None:
    dpd = engine.days_past_due(_load_book(session, account, open_only=True), today)
    if dpd > product.max_draw_dpd:
        raise AccountDelinquent(
            f"account {account.ref} is {dpd} days past due ({product.bucket_for(dpd)}); "
            f"product {product.name} allows draws up to {product.max_draw_dpd} days past due "
            "(max_draw_dpd)",
            field="account",
        )


def _check_credit_balance_cap(session: Session, book: engine.Book, amount_fen: int) -> None:
    """Refuse a repayment that leaves more credit than the product's cap. Runs after the
    postings; the refusal rolls the whole command back with the caller's transaction."""
    ref, cap = book.account.ref, book.product.max_credit_balance_fen
    credit = -ledger.balance(session, credit_code(ref, CreditPurpose.CREDIT_BALANCE)).balance_fen
    if credit > cap:
        accepted = max(0, amount_fen - (credit - cap))
        raise CreditBalanceAboveCap(
            f"this repayment would leave a credit balance of {format_yuan(credit)} on account "
            f"{ref}, above product {book.product.name}'s cap of {format_yuan(cap)} "
            f"(max_credit_balance); at most {format_yuan(accepted)} can be repaid now",
            field="amount",
        )


def _check_draw_terms(
    product: ProductSpec, amount_fen: int, repayment_type: str, term_months: int
) -> RepaymentType:
    if amount_fen <= 0:
        raise InvalidInput(
            "amount must be greater than zero", field="amount", code="amount_not_positive"
        )
    if amount_fen < product.min_draw_fen:
        raise Refused(
            f"{format_yuan(amount_fen)} is below the minimum draw of {product.min_draw}",
            code="below_minimum_draw",
            field="amount",
        )
    allowed = [t.value for t in product.repayment_types]
    if repayment_type not in allowed:
        raise InvalidInput(
            f"repayment type {repayment_type!r} is not offered; choose one of {allowed}",
            field="repayment",
            code="repayment_type_not_offered",
        )
    if term_months not in product.terms_months:
        raise InvalidInput(
            f"a term of {term_months} months is not offered; choose one of {product.terms_months}",
            field="term_months",
            code="term_not_offered",
        )
    return RepaymentType(repayment_type)


def _load_book(session: Session, account: CreditAccount, *, open_only: bool = False) -> engine.Book:
    """The account's draws and their schedules; ``open_only`` for what only open draws
    decide (what is due, days past due)."""
    draws = list(repository.draws_of(session, account.id, open_only=open_only))
    schedule: dict[int, list[Instalment]] = {d.id: [] for d in draws}
    for inst in repository.instalments_of(session, [d.id for d in draws]):
        schedule[inst.draw_id].append(inst)
    return engine.Book(account, _product_of(session, account), draws, schedule)


def _apply_repayment(
    session: Session, clock: Clock, book: engine.Book, repayment: Repayment
) -> engine.Allocation:
    ref = book.account.ref
    day = repayment.effective_date
    outcome = engine.allocate(
        book,
        day=day,
        amount_fen=repayment.amount_fen,
        slots=book.product.waterfall,
        before_seq=repayment.seq,
    )
    _post(
        session,
        clock,
        book,
        "accrual",
        day,
        _income_legs(book, CreditPurpose.INTEREST, outcome.accelerated_interest_fen),
    )
    legs = [
        Leg(lender_code(LenderPurpose.FUNDING), repayment.amount_fen),
        *_paid_legs(book, outcome),
    ]
    if outcome.leftover_fen:
        legs.append(Leg(credit_code(ref, CreditPurpose.CREDIT_BALANCE), -outcome.leftover_fen))
    _post(session, clock, book, "repayment", day, legs)
    _record_allocations(session, book, outcome, repayment_id=repayment.id, day=day, leftover=True)
    return outcome


def _replay(session: Session, clock: Clock, book: engine.Book) -> dict[int, engine.Allocation]:
    """Undo every servicing posting of the account (newest first, by reversing entries),
    reset each draw to its disbursement, then apply the repayments and close the days again
    in order. Returns each repayment's new allocation."""
    account = book.account
    assert account.cob_through is not None
    _reverse_servicing_entries(session, clock, book)
    repository.supersede_allocations(session, account.id)
    for row in book.draws:
        engine.reset_draw(row, book.schedule_of(row))
    repayments = list(repository.repayments_of(session, account.id))
    bucket_before = account.bucket
    outcomes: dict[int, engine.Allocation] = {}
    starts = [d.drawn_on for d in book.draws] + [r.effective_date for r in repayments]
    day = min(starts)
    while day <= account.cob_through:
        for repayment in (r for r in repayments if r.effective_date == day):
            outcomes[repayment.id] = _apply_repayment(session, clock, book, repayment)
        _close_day(session, clock, book, day, emit_events=False)
        day += ONE_DAY
    for repayment in (r for r in repayments if r.effective_date > account.cob_through):
        outcomes[repayment.id] = _apply_repayment(session, clock, book, repayment)
    account.bucket = bucket_before
    _update_delinquency(session, clock, book, account.cob_through + ONE_DAY, emit_events=True)
    _emit(session, clock, account, "replayed", {"reason": "backdated repayment"})
    return outcomes


def _reverse_servicing_entries(session: Session, clock: Clock, book: engine.Book) -> None:
    """Reverse, newest first, every entry servicing posted for the account and not yet
    reversed: its own entries whole, and its share of each set-based close of business
    summary entry by a partial reversal of its own."""
    ref = book.account.ref
    postings = list(repository.live_postings(session, book.account.id))
    ids = ledger.entry_ids(session, [posting.entry_ref for posting in postings])
    undo: list[tuple[int, ServicingPosting | Share]] = [(ids[p.entry_ref], p) for p in postings]
    undo += [
        (share.entry_id, share)
        for share in ledger.live_shares(
            session, owner_ref=ref, ref_prefix=queries.SUMMARY_REF_PREFIX
        )
    ]
    offsets = {
        credit_code(ref, receivable): lender_code(income)
        for receivable, income in INCOME_OF.items()
    }
    for _entry_id, item in sorted(undo, key=lambda pair: pair[0], reverse=True):
        if isinstance(item, Share):
            ledger.reverse_share(
                session,
                clock,
                share=item,
                owner_ref=ref,
                offsets=offsets,
                description="backdated repayment replay",
            )
            continue
        ledger.reverse(
            session, clock, entry_ref=item.entry_ref, description="backdated repayment replay"
        )
        item.reversed = True


def _income_legs(book: engine.Book, purpose: CreditPurpose, amount_fen: int) -> list[Leg]:
    if amount_fen == 0:
        return []
    income = INCOME_OF[purpose]
    return [
        Leg(credit_code(book.account.ref, purpose), amount_fen),
        Leg(lender_code(income), -amount_fen),
    ]


def _paid_legs(book: engine.Book, outcome: engine.Allocation) -> list[Leg]:
    """Credit each receivable with what was paid; an early-repayment fee is income at once."""
    ref = book.account.ref
    codes = {
        "principal": credit_code(ref, CreditPurpose.PRINCIPAL),
        "interest": credit_code(ref, CreditPurpose.INTEREST),
        "penalty": credit_code(ref, CreditPurpose.PENALTY),
        "fee": lender_code(LenderPurpose.FEE_INCOME),
    }
    return [
        Leg(codes[component], -amount)
        for component, amount in outcome.total_by_component().items()
        if amount
    ]


def _post(
    session: Session,
    clock: Clock,
    book: engine.Book,
    kind: str,
    day: dt.date,
    legs: list[Leg],
) -> None:
    if not legs:
        return
    entry = ledger.post_entry(
        session, clock, kind=kind, legs=legs, effective_date=day, description=book.account.ref
    )
    repository.add_unflushed(
        session,
        ServicingPosting(
            credit_account_id=book.account.id,
            entry_ref=entry.entry_ref,
            kind=kind,
            effective_date=day,
            reversed=False,
        ),
    )


def _record_allocations(
    session: Session,
    book: engine.Book,
    outcome: engine.Allocation,
    *,
    repayment_id: int | None,
    day: dt.date,
    leftover: bool,
) -> None:
    rows = [
        Allocation(
            credit_account_id=book.account.id,
            repayment_id=repayment_id,
            instalment_id=part.instalment.id,
            timing=part.timing.value,
            component=part.component.value,
            amount_fen=part.amount_fen,
            effective_date=day,
            superseded=False,
        )
        for part in outcome.parts
    ]
    if leftover and outcome.leftover_fen:
        rows.append(
            Allocation(
                credit_account_id=book.account.id,
                repayment_id=repayment_id,
                instalment_id=None,
                timing="none",
                component=CREDIT_BALANCE_COMPONENT,
                amount_fen=outcome.leftover_fen,
                effective_date=day,
                superseded=False,
            )
        )
    if rows:
        repository.add_all(session, rows)


def _emit(
    session: Session,
    clock: Clock,
    account: CreditAccount,
    kind: str,
    payload: dict[str, Any],
    *,
    as_of: dt.date | None = None,
) -> int:
    event = AccountEvent(
        credit_account_id=account.id,
        kind=kind,
        as_of=as_of or clock.today(),
        payload_json=json.dumps(payload, sort_keys=True),
        created_at=clock.now(),
    )
    repository.add(session, event)
    return event.id


def _instalment_state(
    draw_row: Draw, inst: Instalment, as_of: dt.date, *, total_fen: int, paid_fen: int
) -> InstalmentState:
    """An instalment still to come is paid once all it schedules is (nothing of it is owed
    yet, so ``is_settled`` would call it paid); one due is paid once it is settled."""
    if inst.due_date > as_of:
        return InstalmentState.PAID if paid_fen >= total_fen else InstalmentState.NOT_DUE
    if engine.is_settled(draw_row, inst, as_of):
        return InstalmentState.PAID
    return InstalmentState.OVERDUE if inst.due_date < as_of else InstalmentState.DUE


def _instalment_view(draw_row: Draw, inst: Instalment, as_of: dt.date) -> InstalmentView:
    interest = inst.interest_scheduled_fen
    if RepaymentType(draw_row.repayment_type) is RepaymentType.DAILY:
        interest = inst.interest_accrued_fen if inst.interest_accrued_fen else interest
    owed = {
        "principal_fen": inst.principal_due_fen,
        "interest_fen": interest,
        "penalty_fen": inst.penalty_accrued_fen,
        "fee_fen": inst.fee_charged_fen,
    }
    paid = inst.principal_paid_fen + inst.interest_paid_fen + inst.penalty_paid_fen
    paid += inst.fee_paid_fen
    state = _instalment_state(draw_row, inst, as_of, total_fen=sum(owed.values()), paid_fen=paid)
    return InstalmentView(seq=inst.seq, due_date=inst.due_date, **owed, paid_fen=paid, state=state)


def _draw_view(row: Draw, schedule: list[InstalmentView]) -> DrawView:
    return DrawView(
        ref=row.ref,
        key=row.idempotency_key,
        amount_fen=row.amount_fen,
        repayment_type=row.repayment_type,
        term_months=row.term_months,
        drawn_on=row.drawn_on,
        apr=format_apr(Decimal(row.apr)),
        status=row.status,
        outstanding_principal_fen=row.principal_outstanding_fen,
        schedule=schedule,
    )


def draw_summary_dict(view: DrawView) -> dict[str, Any]:
    """A draw as the CLI and the scenario files write it: money in yuan."""
    return {
        "key": view.key,
        "amount": format_yuan(view.amount_fen),
        "repayment": view.repayment_type,
        "term_months": view.term_months,
        "drawn_on": view.drawn_on.isoformat(),
        "apr": view.apr,
        "status": view.status,
        "outstanding_principal": format_yuan(view.outstanding_principal_fen),
        "schedule": [schedule_row_dict(row) for row in view.schedule],
    }


def schedule_row_dict(view: InstalmentView) -> dict[str, Any]:
    return {
        "seq": view.seq,
        "due": view.due_date.isoformat(),
        "principal": format_yuan(view.principal_fen),
        "interest": format_yuan(view.interest_fen),
        "penalty": format_yuan(view.penalty_fen),
        "fee": format_yuan(view.fee_fen),
        "total": format_yuan(view.total_fen),
        "paid": format_yuan(view.paid_fen),
    }
