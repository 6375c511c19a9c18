"""``/v1/accounts/{ref}/line-history``: every decision on an account's line, with reasons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from limitwise.api.runtime import Runtime, runtime
from limitwise.kit.db import unit_of_work
from limitwise.kit.fields import Ref
from limitwise.lines import service
from limitwise.lines.schemas import LineDecisionRead

router = APIRouter(prefix="/accounts", tags=["accounts"])


@router.get("/{ref}/line-history")
def line_history(
    ref: Annotated[Ref, Path(description="The account's reference")],
    rt: Annotated[Runtime, Depends(runtime)],
) -> list[LineDecisionRead]:
    with unit_of_work(rt.engine) as session:
        return [LineDecisionRead.of(view) for view in service.history(session, ref=ref)]
