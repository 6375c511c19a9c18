"""Submitting an application over the API: onboarding's two phases, then the line decision,
idempotent on the client's key.

1. A short read: a key already used for this request answers with the stored result, so a
   retry neither asks the providers again nor opens a second account; a borrower who holds
   accounts must be applying as the person who holds them.
2. The form is validated once, in the short read (a borrower's is checked against the
   person who holds their accounts), and :func:`gather_request` asks the providers with
   no transaction open.
3. One write transaction claims the key, stores the application, decides it and opens the
   account (``lines.flows.record_and_decide``), links a borrower to what they submitted,
   and appends the submission to the audit chain. Twin requests with one key: the second
   claim waits for the first and replays its result.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from limitwise.applications import service
from limitwise.applications.schemas import (
    ApplicationCreate,
    ApplicationDecisionRead,
    in_api_terms,
)
from limitwise.audit import service as audit
from limitwise.auth import service as auth
from limitwise.auth.schemas import Principal, Role
from limitwise.businessdate.flows import dated_unit_of_work
from limitwise.kit.errors import InvalidRequest, Refused
from limitwise.ledger import idempotency
from limitwise.lines import flows as line_flows
from limitwise.lines import service as line_service
from limitwise.lines.service import LineContext
from limitwise.onboarding.flows import OnboardingContext, gather_request
from limitwise.onboarding.intake import parse_application
from limitwise.onboarding.schemas import ApplicationRequest

COMMAND = "application.submit"


class NotTheBorrower(Refused):
    code = "applicant_not_borrower"


def submit(
    engine: Engine,
    *,
    body: ApplicationCreate,
    key: str,
    principal: Principal,
    onboarding: OnboardingContext,
    lines: LineContext,
) -> ApplicationDecisionRead:
    """Submit ``body`` for ``principal`` (a borrower for themselves, a service for an
    applicant): the decision as ``GET /v1/applications/{ref}/decision`` reads it."""
    # The caller is part of the request: another caller's key is never replayed to them.
    request = {"by": principal.subject, "application": body.model_dump(mode="json")}
    with dated_unit_of_work(engine) as (session, clock):
        earlier = idempotency.replay(session, key=key, command=COMMAND, request=request, load=_load)
        if earlier is not None:
            return earlier
        try:
            applicant = parse_application(
                body.onboarding_form(), clock=clock, policy=onboarding.policy
            )
        except InvalidRequest as exc:
            raise in_api_terms(exc) from None
        if principal.role is Role.BORROWER:
            _check_for_themselves(session, principal, applicant, onboarding)
    gathered = gather_request(engine, clock, applicant, context=onboarding)
    with dated_unit_of_work(engine) as (session, clock):

        def store() -> ApplicationDecisionRead:
            outcome, decided = line_flows.record_and_decide(
                session, clock, gathered, onboarding=onboarding, context=lines
            )
            ref = outcome.application_ref
            if principal.role is Role.BORROWER:
                auth.record_submission(
                    session,
                    username=principal.subject,
                    application_ref=ref,
                    account_ref=decided.account_ref if decided else None,
                )
            read = service.decision_of(session, ref=ref)
            audit.record(
                session,
                clock,
                actor=principal.subject,
                action=COMMAND,
                target=f"application:{ref}",
                after=read.model_dump(mode="json"),
            )
            return read

        return idempotency.run_idempotent(
            session,
            clock,
            key=key,
            command=COMMAND,
            request=request,
            action=store,
            dump=lambda read: read.model_dump(mode="json"),
            load=_load,
        )


def _check_for_themselves(
    session: Session,
    principal: Principal,
    applicant: ApplicationRequest,
    onboarding: OnboardingContext,
) -> None:
    """A borrower who holds accounts applies as the person who holds them, refused before
    any provider is asked about someone else. (One who holds none yet matches no one:
    real-name verification stands between them and another person's name.)"""
    holders = line_service.persons_holding(session, refs=sorted(principal.account_refs))
    applicant_index = onboarding.vault.blind_index("resident_id", applicant.resident.number)
    if holders and holders != {applicant_index}:
        raise NotTheBorrower(
            "a borrower applies for themselves: this resident ID is not that of the person "
            "who holds their accounts",
            field="resident_id",
        )


def _load(stored: dict[str, object]) -> ApplicationDecisionRead:
    return ApplicationDecisionRead.model_validate(stored)
