"""Submitting an application: validate, screen, verify and gather, then store.

Two phases, so that no database transaction is open while a provider answers (on SQLite an
open transaction holds the book's write lock, for up to the sum of the HTTP timeouts):

1. :func:`gather_application` validates the input, screens the applicant against the book
   in one short read (duplicates, invitation, shared card or mobile) and only then calls the
   providers, outside any transaction. Bad input raises here, before anything is written.
2. :func:`record_application` runs inside the caller's transaction: it takes the person's
   lock, screens again (a twin submission may have been stored meanwhile: the later one is a
   duplicate) and stores the application with every input (identifiers encrypted, masked
   copies for display), every check's result, every consent and every provider answer.

Providers are called only with the matching consent, and data providers only for an
eligible, verified applicant (data minimisation). The outcome is ``declined``,
``duplicate``, ``incomplete`` or ``pending_decision`` with a typed facts bundle for the line
policy; lines are not decided here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.kit.ids import new_id
from limitwise.kit.settings import Settings, get_settings
from limitwise.onboarding import repository, service
from limitwise.onboarding.intake import parse_application
from limitwise.onboarding.models import Application, ApplicationCheck
from limitwise.onboarding.pii import PiiVault, mask_resident_id
from limitwise.onboarding.policy import OnboardingPolicy, policy_from_settings
from limitwise.onboarding.schemas import (
    ApplicationOutcome,
    ApplicationRequest,
    ApplicationStatus,
    CheckResult,
    FactsBundle,
    IdentityResult,
    Reason,
)
from limitwise.providers import bureau, income, macro, realname, vehicle
from limitwise.providers import service as provider_service
from limitwise.providers.base import not_asked
from limitwise.providers.registry import ProviderSources, sources_from_settings
from limitwise.providers.schemas import (
    PURPOSE_OF_KIND,
    ConsentGrant,
    ConsentPurpose,
    ProviderKind,
    ProviderResult,
    Quality,
    RealNameFacts,
)

log = logging.getLogger(__name__)

Grants = dict[ConsentPurpose, ConsentGrant]


@dataclass(frozen=True)
class OnboardingContext:
    """What a submission needs besides the database and the clock."""

    sources: ProviderSources
    vault: PiiVault
    policy: OnboardingPolicy
    duplicate_window_days: int

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> OnboardingContext:
        settings = settings or get_settings()
        return cls(
            sources=sources_from_settings(settings),
            vault=PiiVault.from_settings(settings),
            policy=policy_from_settings(settings),
            duplicate_window_days=settings.application_duplicate_window_days,
        )


@dataclass(frozen=True)
class Applicant:
    """A validated request with its blind indexes and the grants its consents give."""

    request: ApplicationRequest
    person_index: str
    mobile_index: str
    card_index: str
    grants: Grants

    @classmethod
    def of(cls, request: ApplicationRequest, vault: PiiVault) -> Applicant:
        return cls(
            request=request,
            person_index=vault.blind_index("resident_id", request.resident.number),
            mobile_index=vault.blind_index("mobile", request.mobile),
            card_index=vault.blind_index("bank_card", request.bank_card),
            grants=service.grant_consents(request.consents),
        )


@dataclass(frozen=True)
class Screening:
    """What the book says about the applicant: an earlier application in the duplicate
    window, else the eligibility and shared-instrument checks."""

    earlier_ref: str | None
    checks: tuple[CheckResult, ...]

    @property
    def stops(self) -> bool:
        """Whether the application ends here, before any provider is called."""
        return self.earlier_ref is not None or _any_failed(self.checks)


@dataclass(frozen=True)
class Gathered:
    """Everything learnt before the write: the screening, and what the providers said."""

    applicant: Applicant
    application_ref: str
    screening: Screening
    real_name_checks: tuple[CheckResult, ...]
    results: tuple[ProviderResult[Any], ...]
    facts: FactsBundle | None


def submit_application(
    engine: Engine, clock: Clock, *, raw: Any, context: OnboardingContext
) -> ApplicationOutcome:
    """Gather, then store in one short transaction of its own."""
    gathered = gather_application(engine, clock, raw=raw, context=context)
    with unit_of_work(engine) as session:
        return record_application(session, clock, gathered, context=context)


def gather_application(
    engine: Engine, clock: Clock, *, raw: Any, context: OnboardingContext
) -> Gathered:
    """Validate ``raw``, then :func:`gather_request`."""
    request = parse_application(raw, clock=clock, policy=context.policy)
    return gather_request(engine, clock, request, context=context)


def gather_request(
    engine: Engine, clock: Clock, request: ApplicationRequest, *, context: OnboardingContext
) -> Gathered:
    """Screen a validated application in one short read, then ask the providers with no
    transaction open."""
    applicant = Applicant.of(request, context.vault)
    with unit_of_work(engine) as session:
        screening = _screen(session, clock, applicant, context)
    gathered = Gathered(applicant, new_id("app"), screening, (), (), None)
    if screening.stops:
        return gathered
    real_name = _verify_real_name(clock, applicant, context)
    real_name_checks = tuple(_real_name_checks(real_name, context.policy))
    gathered = replace(gathered, real_name_checks=real_name_checks, results=(real_name,))
    if _any_failed(real_name_checks) or (
        # Never query data about a person whose identity is unconfirmed (it may not be them).
        context.policy.require_real_name_verified and not real_name.usable
    ):
        return gathered
    identity = IdentityResult(
        age_years=request.resident.age_on(clock.today()),
        region_code=request.resident.region_code,
        region_name=request.resident.region_name,
        real_name=real_name,
        verified=real_name.usable,
    )
    facts = _gather_facts(clock, applicant, identity, context)
    return replace(gathered, results=tuple(facts.results()), facts=facts)


def record_application(
    session: Session, clock: Clock, gathered: Gathered, *, context: OnboardingContext
) -> ApplicationOutcome:
    """Store a gathered application in the caller's transaction. Under the person's lock
    the book is screened again: of twin submissions gathered side by side, the first to be
    stored wins and the others are duplicates (their provider answers are kept too)."""
    applicant = gathered.applicant
    repository.lock_person(session, applicant.person_index)
    screening = gathered.screening
    if not screening.stops:
        screening = _screen(session, clock, applicant, context)
    row = _store_application(session, clock, gathered=gathered, context=context)
    service.record_consents(
        session,
        clock,
        application_id=row.id,
        person_index=applicant.person_index,
        consents=applicant.request.consents,
        grants=applicant.grants,
    )
    provider_service.record_results(
        session, results=gathered.results, application_ref=row.application_ref
    )
    checks = [*_number_checks(applicant.request), *screening.checks]
    if screening.earlier_ref is not None:
        return _finish(
            session, row, ApplicationStatus.DUPLICATE, checks, None, screening.earlier_ref
        )
    checks += gathered.real_name_checks
    facts = gathered.facts
    if _any_failed(checks):
        return _finish(session, row, ApplicationStatus.DECLINED, checks, None, None)
    if facts is None:
        return _finish(session, row, ApplicationStatus.INCOMPLETE, checks, None, None)
    # Required data must be fresh and whole; stale optional data is kept and flagged.
    required = context.policy.required_data
    missing = [r for r in facts.results() if r.kind in required and r.quality != Quality.OK]
    status = ApplicationStatus.INCOMPLETE if missing else ApplicationStatus.PENDING_DECISION
    return _finish(session, row, status, checks, facts, None)


def _any_failed(checks: Sequence[CheckResult]) -> bool:
    return any(c.passed is False for c in checks)


def _screen(
    session: Session, clock: Clock, applicant: Applicant, context: OnboardingContext
) -> Screening:
    earlier = service.find_duplicate(
        session,
        person_index=applicant.person_index,
        today=clock.today(),
        window_days=context.duplicate_window_days,
    )
    if earlier is not None:
        detail = f"applied as {earlier.application_ref} on {earlier.business_date}"
        return Screening(
            earlier.application_ref,
            (CheckResult("duplicate", False, "duplicate_application", detail),),
        )
    return Screening(
        None,
        (
            CheckResult("duplicate", True, "first_in_window"),
            *_eligibility_checks(session, clock, applicant, context.policy),
            *_shared_instrument_checks(session, applicant, context.policy),
        ),
    )


def _store_application(
    session: Session, clock: Clock, *, gathered: Gathered, context: OnboardingContext
) -> Application:
    """The application row with encrypted identifiers; status and outcome set at the end."""
    applicant, vault = gathered.applicant, context.vault
    request = applicant.request
    row = Application(
        application_ref=gathered.application_ref,
        status=ApplicationStatus.PENDING_DECISION.value,
        policy_version=context.policy.version,
        business_date=clock.today(),
        received_at=clock.now(),
        person_index=applicant.person_index,
        mobile_index=applicant.mobile_index,
        card_index=applicant.card_index,
        pii_token=service.seal_pii(vault, request.pii()),
        pii_key_id=vault.active_key_id,
        masked_resident_id=mask_resident_id(request.resident.number),
        age_years=request.resident.age_on(clock.today()),
        region_code=request.resident.region_code,
        declared_monthly_income_fen=request.declared_monthly_income_fen,
        inputs_json=json.dumps(request.masked_inputs(), sort_keys=True, ensure_ascii=False),
        outcome_json="{}",
    )
    repository.add(session, row)
    return row


def _number_checks(request: ApplicationRequest) -> list[CheckResult]:
    checks = [
        CheckResult("resident_id", True, "valid", f"region {request.resident.region_code}"),
        CheckResult("mobile", True, "valid", "mainland China mobile"),
        CheckResult("bank_card", True, "valid", "Luhn check digit matches"),
    ]
    if request.vehicle is not None:
        checks.append(CheckResult("vehicle_vin", True, "valid", "VIN format"))
    return checks


def _eligibility_checks(
    session: Session, clock: Clock, applicant: Applicant, policy: OnboardingPolicy
) -> list[CheckResult]:
    checks: list[CheckResult] = []
    if policy.require_invitation:
        invited = service.is_invited(
            session, person_index=applicant.person_index, today=clock.today()
        )
        checks.append(CheckResult("invitation", invited, "invited" if invited else "not_invited"))
    for purpose in policy.required_consents:
        given = purpose in applicant.grants
        checks.append(
            CheckResult(
                f"consent_{purpose.value}",
                given,
                "consent_given" if given else f"consent_missing_{purpose.value}",
                "" if given else f"the applicant did not consent to {purpose.value}",
            )
        )
    age = applicant.request.resident.age_on(clock.today())
    if age < policy.legal_age_years:
        code, detail = "below_legal_age", f"age {age} is below {policy.legal_age_years}"
    else:
        code, detail = "legal_age", f"age {age}"
    checks.append(CheckResult("age", code == "legal_age", code, detail))
    return checks


def _shared_instrument_checks(
    session: Session, applicant: Applicant, policy: OnboardingPolicy
) -> list[CheckResult]:
    """A card or mobile that other people applied with is a classic fraud-ring signal."""
    cards, mobiles = repository.other_people_sharing(
        session,
        card_index=applicant.card_index,
        mobile_index=applicant.mobile_index,
        person_index=applicant.person_index,
    )
    return [
        CheckResult(
            f"{name}_shared",
            count == 0 or not decline,
            f"{name}_used_by_others" if count else f"{name}_not_shared",
            f"{count} other applicant(s) used this {name.replace('_', ' ')}" if count else "",
        )
        for name, count, decline in (
            ("bank_card", cards, policy.decline_card_used_by_others),
            ("mobile", mobiles, policy.decline_mobile_used_by_others),
        )
    ]


def _verify_real_name(
    clock: Clock, applicant: Applicant, context: OnboardingContext
) -> ProviderResult[RealNameFacts]:
    source = context.sources.realname
    grant = applicant.grants.get(ConsentPurpose.IDENTITY_VERIFICATION)
    if grant is None:
        return not_asked(ProviderKind.REALNAME, source.name, clock, "not_consented")
    return realname.verify(
        source,
        subject=applicant.request.subject,
        grant=grant,
        clock=clock,
        max_age_days=context.policy.max_age_days(ProviderKind.REALNAME),
    )


def _real_name_checks(
    result: ProviderResult[RealNameFacts], policy: OnboardingPolicy
) -> list[CheckResult]:
    facts = result.facts
    if facts is None or not result.usable:
        # Not a decline: the service could not answer, so the application is incomplete.
        return [
            CheckResult("real_name", None, f"realname_{result.quality.value}", result.summary())
        ]
    wanted = [
        ("real_name", facts.name_matches_id, policy.require_real_name_verified, "name_id_mismatch"),
        (
            "card_in_own_name",
            facts.card_in_own_name,
            policy.require_card_in_own_name,
            "card_not_in_own_name",
        ),
        (
            "mobile_in_own_name",
            facts.mobile_in_own_name,
            policy.require_mobile_in_own_name,
            "mobile_not_in_own_name",
        ),
    ]
    return [
        CheckResult(name, ok or not required, "verified" if ok else failure_code)
        for name, ok, required, failure_code in wanted
    ]


def _gather_facts(
    clock: Clock, applicant: Applicant, identity: IdentityResult, context: OnboardingContext
) -> FactsBundle:
    sources, policy = context.sources, context.policy
    request, subject = applicant.request, applicant.request.subject

    def consented(kind: ProviderKind) -> ConsentGrant | None:
        return applicant.grants.get(PURPOSE_OF_KIND[kind])

    def skipped(kind: ProviderKind, source_name: str) -> ProviderResult[Any]:
        return not_asked(kind, source_name, clock, "not_consented")

    bureau_grant = consented(ProviderKind.BUREAU)
    bureau_result = (
        bureau.report(
            sources.bureau,
            subject=subject,
            grant=bureau_grant,
            clock=clock,
            max_age_days=policy.max_age_days(ProviderKind.BUREAU),
        )
        if bureau_grant
        else skipped(ProviderKind.BUREAU, sources.bureau.name)
    )
    income_grant = consented(ProviderKind.INCOME)
    income_result = (
        income.verify_income(
            sources.income,
            subject=subject,
            grant=income_grant,
            clock=clock,
            max_age_days=policy.max_age_days(ProviderKind.INCOME),
        )
        if income_grant
        else skipped(ProviderKind.INCOME, sources.income.name)
    )
    vehicle_result = None
    if request.vehicle is not None:
        vehicle_grant = consented(ProviderKind.VEHICLE)
        vehicle_result = (
            vehicle.check_and_value(
                sources.vehicle,
                subject=subject,
                vehicle=request.vehicle.query,
                grant=vehicle_grant,
                clock=clock,
                curve=policy.vehicle_depreciation,
                max_age_days=policy.max_age_days(ProviderKind.VEHICLE),
            )
            if vehicle_grant
            else skipped(ProviderKind.VEHICLE, sources.vehicle.name)
        )
    macro_result = macro.latest_index(
        sources.macro,
        clock=clock,
        policy=policy.macro,
        max_age_days=policy.max_age_days(ProviderKind.MACRO),
    )
    return FactsBundle(
        identity=identity,
        declared_monthly_income_fen=request.declared_monthly_income_fen,
        bureau=bureau_result,
        income=income_result,
        vehicle=vehicle_result,
        macro=macro_result,
    )


def _reasons(
    status: ApplicationStatus, checks: list[CheckResult], facts: FactsBundle | None
) -> tuple[Reason, ...]:
    if facts is None:
        # Declined or duplicate: the failed checks; incomplete: the checks that could not run.
        wanted = None if status is ApplicationStatus.INCOMPLETE else False
        return tuple(Reason(c.code, c.detail or c.name) for c in checks if c.passed is wanted)
    return tuple(
        Reason(f"{r.kind.value}_{r.quality.value}", r.summary())
        for r in facts.results()
        if r.quality is not Quality.OK
    )


def _finish(
    session: Session,
    row: Application,
    status: ApplicationStatus,
    checks: list[CheckResult],
    facts: FactsBundle | None,
    duplicate_of: str | None,
) -> ApplicationOutcome:
    outcome = ApplicationOutcome(
        application_ref=row.application_ref,
        status=status,
        policy_version=row.policy_version,
        masked_resident_id=row.masked_resident_id,
        reasons=_reasons(status, checks, facts),
        checks=tuple(checks),
        facts=facts,
        duplicate_of=duplicate_of,
    )
    repository.add_all(
        session,
        [
            ApplicationCheck(
                application_id=row.id,
                name=check.name,
                passed=check.passed,
                code=check.code,
                detail=check.detail[:300],
            )
            for check in checks
        ],
    )
    row.status = status.value
    row.duplicate_of_ref = duplicate_of
    row.outcome_json = json.dumps(outcome.to_dict(), sort_keys=True, ensure_ascii=False)
    session.flush()
    log.info("application %s for %s: %s", row.application_ref, row.masked_resident_id, status)
    return outcome
