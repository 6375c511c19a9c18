"""Onboarding records: consents, invitations, duplicates, key rotation. Never commits."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from limitwise.kit.clock import Clock
from limitwise.kit.errors import NotFound
from limitwise.kit.ids import new_id
from limitwise.onboarding import repository
from limitwise.onboarding.identity import check_resident_id
from limitwise.onboarding.models import Application, ConsentRecord, Invitation
from limitwise.onboarding.pii import PiiVault, mask_resident_id
from limitwise.onboarding.schemas import ConsentInput, HolderRead
from limitwise.providers import service as provider_service
from limitwise.providers.schemas import ConsentGrant, ConsentPurpose

PII_FIELD = "application_pii"


def grant_consents(consents: Sequence[ConsentInput]) -> dict[ConsentPurpose, ConsentGrant]:
    """The grants that let providers be called, one per consent (one per purpose), with
    the references their records will be stored under."""
    return {c.purpose: ConsentGrant(c.purpose, new_id("cns"), c.text_version) for c in consents}


def record_consents(
    session: Session,
    clock: Clock,
    *,
    application_id: int,
    person_index: str,
    consents: Sequence[ConsentInput],
    grants: dict[ConsentPurpose, ConsentGrant],
) -> None:
    """Store each consent under the reference its grant carried to the providers."""
    repository.add_all(
        session,
        [
            ConsentRecord(
                consent_ref=grants[consent.purpose].consent_ref,
                application_id=application_id,
                person_index=person_index,
                purpose=consent.purpose.value,
                text_version=consent.text_version,
                granted_at=consent.granted_at,
                recorded_at=clock.now(),
            )
            for consent in consents
        ],
    )


def find_duplicate(
    session: Session, *, person_index: str, today: dt.date, window_days: int
) -> Application | None:
    """The person's earlier application in the last ``window_days`` days (0: never)."""
    after = today - dt.timedelta(days=window_days)
    return repository.latest_application_after(session, person_index=person_index, after=after)


def is_invited(session: Session, *, person_index: str, today: dt.date) -> bool:
    invitation = repository.find_invitation(session, person_index)
    if invitation is None:
        return False
    return invitation.valid_until is None or invitation.valid_until >= today


def invite(
    session: Session,
    clock: Clock,
    *,
    vault: PiiVault,
    resident_id: str,
    campaign: str,
    valid_until: dt.date | None,
) -> str:
    """Put a person on the invitation list (or renew them); returns the masked ID."""
    number = check_resident_id(resident_id, today=clock.today()).number
    person_index = vault.blind_index("resident_id", number)
    existing = repository.find_invitation(session, person_index)
    if existing is not None:
        existing.campaign = campaign
        existing.valid_until = valid_until
        session.flush()
    else:
        repository.add(
            session,
            Invitation(
                person_index=person_index,
                masked_resident_id=mask_resident_id(number),
                campaign=campaign,
                valid_until=valid_until,
                added_at=clock.now(),
            ),
        )
    return mask_resident_id(number)


def seal_pii(vault: PiiVault, pii: dict[str, str]) -> str:
    return vault.encrypt(PII_FIELD, json.dumps(pii, sort_keys=True, ensure_ascii=False))


def reveal_pii(vault: PiiVault, application: Application) -> dict[str, str]:
    """Decrypt an application's identifiers (for an authorised caller; never log them)."""
    data: dict[str, str] = json.loads(vault.decrypt(PII_FIELD, application.pii_token))
    return data


def rotate_pii_keys(session: Session, *, vault: PiiVault, batch_size: int = 500) -> int:
    """Re-seal every application's PII under the active key; returns how many changed."""
    rotated = 0
    while True:
        rows = repository.lock_applications_not_on_key(
            session, key_id=vault.active_key_id, limit=batch_size
        )
        if not rows:
            return rotated
        for row in rows:
            row.pii_token = vault.rotate(PII_FIELD, row.pii_token)
            row.pii_key_id = vault.active_key_id
        session.flush()
        rotated += len(rows)


def key_usage(session: Session) -> dict[str, int]:
    """How many applications are sealed under each key id."""
    return repository.count_by_key_id(session)


@dataclass(frozen=True)
class ApplicationView:
    """A stored application as an operator sees it: masked inputs, checks, data, outcome."""

    application_ref: str
    status: str
    business_date: dt.date
    inputs: dict[str, Any]
    checks: list[tuple[str, bool | None, str, str]]
    consents: list[tuple[str, str, dt.datetime]]
    provider_responses: list[dict[str, Any]]
    outcome: dict[str, Any]


@dataclass(frozen=True)
class StoredOutcome:
    """An application's stored outcome (``ApplicationOutcome.to_dict``: identifiers masked)
    and the business date it was received on."""

    business_date: dt.date
    outcome: dict[str, Any]


def stored_outcome(session: Session, *, application_ref: str) -> StoredOutcome | None:
    row = repository.find_application(session, application_ref)
    if row is None:
        return None
    return StoredOutcome(row.business_date, json.loads(row.outcome_json))


def application_view(session: Session, *, application_ref: str) -> ApplicationView:
    row = repository.find_application(session, application_ref)
    if row is None:
        raise NotFound(f"no application {application_ref!r}", field="application_ref")
    return ApplicationView(
        application_ref=row.application_ref,
        status=row.status,
        business_date=row.business_date,
        inputs=json.loads(row.inputs_json),
        checks=[
            (c.name, c.passed, c.code, c.detail) for c in repository.checks_of(session, row.id)
        ],
        consents=[
            (c.purpose, c.text_version, c.granted_at)
            for c in repository.consents_of(session, row.id)
        ],
        provider_responses=[
            {
                "kind": r.kind,
                "provider": r.provider,
                "fetched_at": r.fetched_at.isoformat(),
                "data_as_of": r.data_as_of.isoformat() if r.data_as_of else None,
                "quality": r.quality,
                "reason": r.reason,
            }
            for r in provider_service.stored_results(session, application_ref=row.application_ref)
        ],
        outcome=json.loads(row.outcome_json),
    )


def masked_holder(session: Session, *, account_ref: str, application_ref: str) -> HolderRead:
    """The applicant behind an account with identifiers masked as they were stored."""
    row = repository.find_application(session, application_ref)
    if row is None:
        raise NotFound(f"no application {application_ref!r}", field="application_ref")
    inputs = json.loads(row.inputs_json)
    return HolderRead(
        account_ref=account_ref,
        application_ref=application_ref,
        name=inputs["name"],
        resident_id=row.masked_resident_id,
        mobile=inputs["mobile"],
        bank_card=inputs["bank_card"],
        age_years=row.age_years,
        region_code=row.region_code,
    )


def person_of(session: Session, *, application_ref: str) -> str:
    """The blind index of the person behind an application (to sum their lines)."""
    row = repository.find_application(session, application_ref)
    if row is None:
        raise NotFound(f"no application {application_ref!r}", field="application_ref")
    return row.person_index
