"""``/v1/audit``: prove the audit chain over HTTP (admins)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends

from limitwise.api.runtime import Runtime, runtime
from limitwise.audit import service
from limitwise.audit.schemas import VerificationRead

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/verify")
def verify(rt: Annotated[Runtime, Depends(runtime)]) -> VerificationRead:
    with rt.transaction() as (session, _clock):
        result = service.verify(session)
    return VerificationRead(ok=result.ok, **asdict(result))
