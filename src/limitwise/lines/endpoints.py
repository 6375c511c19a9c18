"""``/v1/accounts/{ref}/line-history``: every decision on an account's line, with reasons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from limitwise.api.runtime import Runtime, runtime
from limitwise.kit.fields import Ref
from limitwise.lines import service
from limitwise.lines.schemas import LineDecisionRead

router = APIRouter(prefix="/accounts", tags=["accounts"])


@router.get("/{ref}/line-history")
def line_history(
    ref: Annotated[Ref, Path(description="The account's reference")],
    rt: Annotated[Runtime, Depends(runtime)],
) -> list[LineDecisionRead]:
    with rt.transaction() as (session, _clock):
        return [LineDecisionRead.of(view) for view in service.history(session, ref=ref)]
