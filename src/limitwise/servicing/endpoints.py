"""``/accounts``: credit accounts, their draws and repayments over HTTP.

Money-moving requests need an ``Idempotency-Key`` header: a retry with the same key and body
returns the original result; the same key with another body is a 409.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path
from pydantic import BaseModel, ConfigDict, Field

from limitwise.api.runtime import Runtime, runtime
from limitwise.kit.fields import AmountFen, Ref, WholeNumber
from limitwise.servicing import service
from limitwise.servicing.schedule import RepaymentType

router = APIRouter(prefix="/accounts", tags=["accounts"])

IdempotencyKey = Annotated[
    str, Header(alias="Idempotency-Key", min_length=1, max_length=128, description="Client key")
]
AccountRef = Annotated[Ref, Path(description="The account's reference, e.g. DEMO-001")]


class DrawCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: AmountFen
    repayment_type: RepaymentType
    term_months: Annotated[WholeNumber, Field(ge=1, le=60)]


class RepaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: AmountFen


@router.get("")
def list_accounts(rt: Annotated[Runtime, Depends(runtime)]) -> list[dict[str, Any]]:
    with rt.transaction() as (session, clock):
        return [
            _summary(asdict(service.account_state(session, ref=ref, as_of=clock.today())))
            for ref in service.account_refs(session)
        ]


@router.get("/{ref}")
def get_account(ref: AccountRef, rt: Annotated[Runtime, Depends(runtime)]) -> dict[str, Any]:
    with rt.transaction() as (session, clock):
        state = asdict(service.account_state(session, ref=ref, as_of=clock.today()))
        state["events"] = service.account_events(session, ref=ref)
    return state


@router.post("/{ref}/draws", status_code=201)
def create_draw(
    ref: AccountRef, body: DrawCreate, key: IdempotencyKey, rt: Annotated[Runtime, Depends(runtime)]
) -> dict[str, Any]:
    with rt.transaction() as (session, clock):
        result = service.draw(
            session,
            clock,
            account_ref=ref,
            amount_fen=body.amount,
            repayment_type=body.repayment_type.value,
            term_months=body.term_months,
            key=key,
        )
    return result.to_dict()


@router.post("/{ref}/repayments", status_code=201)
def create_repayment(
    ref: AccountRef,
    body: RepaymentCreate,
    key: IdempotencyKey,
    rt: Annotated[Runtime, Depends(runtime)],
) -> dict[str, Any]:
    with rt.transaction() as (session, clock):
        result = service.repay(session, clock, account_ref=ref, amount_fen=body.amount, key=key)
    return result.to_dict()


def _summary(state: dict[str, Any]) -> dict[str, Any]:
    """The list view leaves out the per-draw detail."""
    return {name: value for name, value in state.items() if name != "draws"}
