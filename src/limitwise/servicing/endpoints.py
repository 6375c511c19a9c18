"""``/v1/accounts``: credit accounts, their events, draws and repayments.

Who may call which route, and which accounts a borrower may name, is the authorization
matrix's business (``api/authz.py``); the list shows each caller what it may see. Money is
integer fen. Money-moving requests need an ``Idempotency-Key`` header: a retry with the
same key and body returns the original result; the same key with another body is a 409.
Each draw and repayment is logged in the audit chain with the account before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query
from sqlalchemy.orm import Session

from limitwise.api.runtime import Runtime, runtime
from limitwise.audit import service as audit
from limitwise.auth.principal import CurrentPrincipal
from limitwise.businessdate import service as business_dates
from limitwise.kit.clock import Clock
from limitwise.kit.fields import Ref
from limitwise.servicing import service
from limitwise.servicing.schemas import (
    AccountEventRead,
    AccountRead,
    AccountSummary,
    CobFailureRead,
    CobStatusRead,
    DrawCreate,
    DrawRead,
    DrawReceipt,
    DrawScheduleRead,
    RepaymentCreate,
    RepaymentReceipt,
)
from limitwise.servicing.service import ONE_DAY

router = APIRouter(prefix="/accounts", tags=["accounts"])
cob_router = APIRouter(prefix="/cob", tags=["close of business"])

IdempotencyKey = Annotated[
    str, Header(alias="Idempotency-Key", min_length=1, max_length=128, description="Client key")
]
AccountRef = Annotated[Ref, Path(description="The account's reference, e.g. DEMO-001")]
RuntimeDep = Annotated[Runtime, Depends(runtime)]


PaidOff = Annotated[
    bool,
    Query(
        description="Also list the paid-off draws (the read then grows with the account's "
        "history); by default only the open ones"
    ),
]


@router.get("")
def list_accounts(rt: RuntimeDep, principal: CurrentPrincipal) -> list[AccountSummary]:
    with rt.transaction() as (session, clock):
        return [
            AccountSummary.model_validate(
                service.account_state(session, ref=ref, as_of=clock.today(), paid_off=False)
            )
            for ref in service.account_refs(session)
            if principal.sees(ref)
        ]


@router.get("/{ref}")
def get_account(ref: AccountRef, rt: RuntimeDep, paid_off: PaidOff = False) -> AccountRead:
    with rt.transaction() as (session, clock):
        state = service.account_state(session, ref=ref, as_of=clock.today(), paid_off=paid_off)
        return AccountRead.model_validate(state)


@router.get("/{ref}/events")
def list_events(ref: AccountRef, rt: RuntimeDep) -> list[AccountEventRead]:
    with rt.transaction() as (session, _clock):
        events = service.account_events(session, ref=ref)
    return [_event(event) for event in events]


@router.get("/{ref}/draws/{draw_ref}/schedule")
def get_draw_schedule(
    ref: AccountRef,
    draw_ref: Annotated[Ref, Path(description="The draw's reference (its receipt's ref)")],
    rt: RuntimeDep,
) -> DrawScheduleRead:
    """Each instalment of the draw: due date, principal, interest, penalty, fee, paid and
    state, in fen, as of the business date."""
    with rt.transaction() as (session, clock):
        view = service.draw_of_account(session, ref=ref, draw_ref=draw_ref, as_of=clock.today())
    draw = DrawRead.model_validate(view)
    return DrawScheduleRead(**dict(draw), account=ref, as_of=clock.today())


@router.post("/{ref}/draws", status_code=201)
def create_draw(
    ref: AccountRef,
    body: DrawCreate,
    key: IdempotencyKey,
    rt: RuntimeDep,
    principal: CurrentPrincipal,
) -> DrawReceipt:
    with rt.transaction() as (session, clock):
        result = _audited(
            session,
            clock,
            principal.subject,
            "draw.create",
            ref,
            lambda: service.draw(
                session,
                clock,
                account_ref=ref,
                amount_fen=body.amount_fen,
                repayment_type=body.repayment_type.value,
                term_months=body.term_months,
                key=key,
            ).to_dict(),
        )
    return DrawReceipt(**result)


@router.post("/{ref}/repayments", status_code=201)
def create_repayment(
    ref: AccountRef,
    body: RepaymentCreate,
    key: IdempotencyKey,
    rt: RuntimeDep,
    principal: CurrentPrincipal,
) -> RepaymentReceipt:
    with rt.transaction() as (session, clock):
        result = _audited(
            session,
            clock,
            principal.subject,
            "repayment.create",
            ref,
            lambda: service.repay(
                session, clock, account_ref=ref, amount_fen=body.amount_fen, key=key
            ).to_dict(),
        )
    return RepaymentReceipt(**result)


@cob_router.get("/status")
def cob_status(rt: RuntimeDep) -> CobStatusRead:
    with rt.transaction() as (session, clock):
        dates = business_dates.book_dates(session)
        return CobStatusRead(
            business_date=dates.business_date,
            cob_closed_through=dates.cob_closed_through,
            simulation=dates.simulation,
            accounts=len(service.account_refs(session)),
            accounts_behind=len(service.accounts_behind(session, as_of=clock.today() - ONE_DAY)),
            failures=[CobFailureRead(**asdict(f)) for f in service.cob_failures(session)],
        )


def _audited(
    session: Session,
    clock: Clock,
    actor: str,
    action: str,
    ref: str,
    apply: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    return audit.change(
        session,
        clock,
        actor=actor,
        action=action,
        target=f"account:{ref}",
        snapshot=lambda: service.account_snapshot(session, ref=ref),
        apply=apply,
    )


def _event(event: dict[str, Any]) -> AccountEventRead:
    details = {k: v for k, v in event.items() if k not in {"account_id", "kind", "as_of"}}
    return AccountEventRead(kind=event["kind"], as_of=event["as_of"], details=details)
