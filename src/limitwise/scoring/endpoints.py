"""``/v1/scorecards``: the registered scorecard versions and which one is live."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from limitwise.api.runtime import Runtime, runtime
from limitwise.kit.db import unit_of_work
from limitwise.scoring import service
from limitwise.scoring.schemas import RegistryEntry

router = APIRouter(prefix="/scorecards", tags=["scorecards"])


@router.get("")
def list_scorecards(rt: Annotated[Runtime, Depends(runtime)]) -> list[RegistryEntry]:
    with unit_of_work(rt.engine) as session:
        return service.list_scorecards(session)
