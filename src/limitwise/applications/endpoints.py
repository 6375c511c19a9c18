"""``/v1/applications``: submit an application, read its status and its decision.

Who may name which application is the authorization matrix's business (``api/authz.py``):
a borrower reads only what they submitted or the application of an account they hold, and
another's ref is the 404 of a ref that does not exist. Reads by staff and services return
personal data (masked) and are logged in the audit chain (``pii.read``), like ``/holder``.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Header, Path
from pydantic import BaseModel
from sqlalchemy.orm import Session

from limitwise.api.runtime import Runtime, runtime
from limitwise.applications import flows, service
from limitwise.applications.schemas import (
    ApplicationCreate,
    ApplicationDecisionRead,
    ApplicationRead,
)
from limitwise.audit import service as audit
from limitwise.auth.principal import CurrentPrincipal
from limitwise.auth.schemas import Principal, Role
from limitwise.kit.clock import Clock
from limitwise.kit.fields import Ref
from limitwise.lines import flows as line_flows
from limitwise.onboarding.flows import OnboardingContext

R = TypeVar("R", bound=BaseModel)
router = APIRouter(prefix="/applications", tags=["applications"])
RuntimeDep = Annotated[Runtime, Depends(runtime)]
ApplicationRef = Annotated[Ref, Path(description="The application's reference, app_...")]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Client key: a resubmission with it answers the original outcome",
    ),
]


@router.post("", status_code=201)
def submit_application(
    body: ApplicationCreate, key: IdempotencyKey, rt: RuntimeDep, principal: CurrentPrincipal
) -> ApplicationDecisionRead:
    """Check the applicant, ask the data providers (with no transaction open), then store,
    decide and open the account in one transaction."""
    return flows.submit(
        rt.engine,
        body=body,
        key=key,
        principal=principal,
        onboarding=OnboardingContext.from_settings(rt.settings),
        lines=line_flows.default_context(rt.settings),
    )


@router.get("/{ref}")
def get_application(
    ref: ApplicationRef, rt: RuntimeDep, principal: CurrentPrincipal
) -> ApplicationRead:
    with rt.transaction() as (session, clock):
        return _logged(session, clock, principal, ref, service.status_of(session, ref=ref))


@router.get("/{ref}/decision")
def get_application_decision(
    ref: ApplicationRef, rt: RuntimeDep, principal: CurrentPrincipal
) -> ApplicationDecisionRead:
    with rt.transaction() as (session, clock):
        return _logged(session, clock, principal, ref, service.decision_of(session, ref=ref))


def _logged(session: Session, clock: Clock, principal: Principal, ref: str, read: R) -> R:
    """Anyone but the applicant reading an application is a read of personal data."""
    if principal.role is not Role.BORROWER:
        audit.record(
            session,
            clock,
            actor=principal.subject,
            action="pii.read",
            target=f"application:{ref}",
            after=read.model_dump(mode="json"),
        )
    return read
