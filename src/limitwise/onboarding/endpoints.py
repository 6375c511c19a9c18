"""``/v1/accounts/{ref}/holder`` and ``/v1/holders/search``: who holds an account, for
staff, with every identifier masked. Each read is logged in the audit chain as a staff read
of personal data (``pii.read``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from limitwise.api.runtime import Runtime, runtime
from limitwise.audit import service as audit
from limitwise.auth.principal import CurrentPrincipal
from limitwise.kit.fields import Ref
from limitwise.lines import service as lines
from limitwise.onboarding import service
from limitwise.onboarding.identity import check_resident_id
from limitwise.onboarding.pii import PiiVault
from limitwise.onboarding.schemas import HolderRead, HolderSearch

router = APIRouter(tags=["holders"])
RuntimeDep = Annotated[Runtime, Depends(runtime)]
AccountRef = Annotated[Ref, Path(description="The account's reference")]


@router.get("/accounts/{ref}/holder")
def account_holder(ref: AccountRef, rt: RuntimeDep, principal: CurrentPrincipal) -> HolderRead:
    with rt.transaction() as (session, clock):
        application_ref = lines.holder_application(session, ref=ref)
        holder = service.masked_holder(session, account_ref=ref, application_ref=application_ref)
        audit.record(
            session,
            clock,
            actor=principal.subject,
            action="pii.read",
            target=f"account:{ref}",
            after=holder.model_dump(),
        )
    return holder


@router.post("/holders/search")
def search_holders(
    body: HolderSearch, rt: RuntimeDep, principal: CurrentPrincipal
) -> list[HolderRead]:
    """The accounts of the person with this resident ID (found by its blind index, so the
    number itself is never stored or compared in the clear)."""
    with rt.transaction() as (session, clock):
        resident = check_resident_id(body.resident_id, today=clock.today())
        person_index = PiiVault.from_settings(rt.settings).blind_index(
            "resident_id", resident.number
        )
        found = [
            service.masked_holder(session, account_ref=account, application_ref=application)
            for account, application in lines.accounts_of_person(session, person_index=person_index)
        ]
        audit.record(
            session,
            clock,
            actor=principal.subject,
            action="pii.read",
            target=f"person:{person_index[:16]}",
            after=[holder.model_dump() for holder in found],
        )
    return found
