"""``/v1/ledger``: the trial balance over HTTP."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from limitwise.api.runtime import Runtime, runtime
from limitwise.ledger.check import check_trial_balance
from limitwise.ledger.schemas import TrialBalanceRead

router = APIRouter(prefix="/ledger", tags=["ledger"])


@router.get("/trial-balance")
def trial_balance(rt: Annotated[Runtime, Depends(runtime)]) -> TrialBalanceRead:
    with rt.transaction() as (session, _clock):
        report = check_trial_balance(session)
    return TrialBalanceRead(
        ok=report.ok,
        entries_checked=report.entries_checked,
        accounts_checked=report.accounts_checked,
        grand_total_fen=report.grand_total_fen,
        totals_by_purpose_fen=report.totals_by_purpose_fen,
        problems=report.problems,
    )
