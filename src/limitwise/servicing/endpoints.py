"""``/accounts``: credit accounts, their draws and repayments over HTTP.

Money-moving requests need an ``Idempotency-Key`` header: a retry with the same key and body
returns the original result; the same key with another body is a 409.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, ConfigDict, Field

from limitwise.api.app import Runtime, runtime
from limitwise.kit.db import unit_of_work
from limitwise.kit.money import parse_amount_fen
from limitwise.servicing import service

router = APIRouter(prefix="/accounts", tags=["accounts"])

IdempotencyKey = Annotated[
    str, Header(alias="Idempotency-Key", min_length=1, max_length=128, description="Client key")
]
#: Checked by ``parse_amount_fen`` so the HTTP and CLI paths name the same rule.
Amount = Annotated[Any, Field(description='Yuan as a decimal string, e.g. "1000.00"')]


class DrawCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount
    repayment_type: str
    term_months: int


class RepaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount


@router.get("")
def list_accounts(rt: Annotated[Runtime, Depends(runtime)]) -> list[dict[str, Any]]:
    with unit_of_work(rt.engine) as session:
        return [
            _summary(asdict(service.account_state(session, ref=ref, as_of=rt.business_date)))
            for ref in service.account_refs(session)
        ]


@router.get("/{ref}")
def get_account(ref: str, rt: Annotated[Runtime, Depends(runtime)]) -> dict[str, Any]:
    with unit_of_work(rt.engine) as session:
        state = asdict(service.account_state(session, ref=ref, as_of=rt.business_date))
        state["events"] = service.account_events(session, ref=ref)
    return state


@router.post("/{ref}/draws", status_code=201)
def create_draw(
    ref: str, body: DrawCreate, key: IdempotencyKey, rt: Annotated[Runtime, Depends(runtime)]
) -> dict[str, Any]:
    amount_fen = parse_amount_fen(body.amount, field="amount")
    with unit_of_work(rt.engine) as session:
        result = service.draw(
            session,
            rt.clock(),
            account_ref=ref,
            amount_fen=amount_fen,
            repayment_type=body.repayment_type,
            term_months=body.term_months,
            key=key,
        )
    return result.to_dict()


@router.post("/{ref}/repayments", status_code=201)
def create_repayment(
    ref: str, body: RepaymentCreate, key: IdempotencyKey, rt: Annotated[Runtime, Depends(runtime)]
) -> dict[str, Any]:
    amount_fen = parse_amount_fen(body.amount, field="amount")
    with unit_of_work(rt.engine) as session:
        result = service.repay(session, rt.clock(), account_ref=ref, amount_fen=amount_fen, key=key)
    return result.to_dict()


def _summary(state: dict[str, Any]) -> dict[str, Any]:
    """The list view leaves out the per-draw detail."""
    return {name: value for name, value in state.items() if name != "draws"}
