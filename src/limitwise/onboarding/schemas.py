"""Onboarding value objects: the validated request, check results, and the outcome."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from limitwise.kit.fields import NoControl
from limitwise.onboarding.identity import ResidentId
from limitwise.onboarding.pii import (
    mask_bank_card,
    mask_mobile,
    mask_name,
    mask_plate,
    mask_resident_id,
    mask_vin,
)
from limitwise.providers.schemas import (
    BureauFacts,
    ConsentPurpose,
    IncomeFacts,
    MacroFacts,
    ProviderResult,
    RealNameFacts,
    Subject,
    VehicleFacts,
    VehicleQuery,
    jsonable,
)


class ApplicationStatus(StrEnum):
    DECLINED = "declined"
    """Not eligible or an identity check failed; the reasons say which."""
    DUPLICATE = "duplicate"
    """The same person applied within the duplicate window; nothing was queried."""
    INCOMPLETE = "incomplete"
    """Eligible, but data the decision needs could not be had (provider down, stale...)."""
    PENDING_DECISION = "pending_decision"
    """Eligible with the facts gathered: the line policy decides next."""


@dataclass(frozen=True)
class ConsentInput:
    purpose: ConsentPurpose
    text_version: str
    granted_at: dt.datetime


@dataclass(frozen=True)
class VehicleInput:
    query: VehicleQuery
    documents: tuple[str, ...]


@dataclass(frozen=True)
class ApplicationRequest:
    """A validated application. Holds plaintext PII: never store, log or print it as is."""

    name: str
    resident: ResidentId
    mobile: str
    bank_card: str
    declared_monthly_income_fen: int
    vehicle: VehicleInput | None
    consents: tuple[ConsentInput, ...]
    channel: str | None

    def __repr__(self) -> str:
        return f"ApplicationRequest({mask_resident_id(self.resident.number)})"

    @property
    def subject(self) -> Subject:
        return Subject(self.name, self.resident.number, self.mobile, self.bank_card)

    def pii(self) -> dict[str, str]:
        """Every personal identifier, for the encrypted column."""
        values = {
            "name": self.name,
            "resident_id": self.resident.number,
            "mobile": self.mobile,
            "bank_card": self.bank_card,
        }
        if self.vehicle is not None:
            values["plate_number"] = self.vehicle.query.plate_number
            values["vin"] = self.vehicle.query.vin
        return values

    def masked_inputs(self) -> dict[str, Any]:
        """Every input as submitted (normalised), identifiers masked: safe to store and show."""
        vehicle = None
        if self.vehicle is not None:
            q = self.vehicle.query
            vehicle = {
                "plate_number": mask_plate(q.plate_number),
                "vin": mask_vin(q.vin),
                "model": q.model,
                "first_registration_year": q.first_registration_year,
                "purchase_price_fen": q.purchase_price_fen,
                "mileage_km": q.mileage_km,
                "documents": list(self.vehicle.documents),
            }
        return {
            "name": mask_name(self.name),
            "resident_id": mask_resident_id(self.resident.number),
            "mobile": mask_mobile(self.mobile),
            "bank_card": mask_bank_card(self.bank_card),
            "declared_monthly_income_fen": self.declared_monthly_income_fen,
            "vehicle": vehicle,
            "consents": [
                {
                    "purpose": c.purpose.value,
                    "text_version": c.text_version,
                    "granted_at": c.granted_at.isoformat(),
                }
                for c in self.consents
            ],
            "channel": self.channel,
        }


@dataclass(frozen=True)
class CheckResult:
    """One check run on an application: its name, whether it passed, and why not.

    ``passed`` is None when the check could not be made (its data is missing): that makes
    the application incomplete, not declined.
    """

    name: str
    passed: bool | None
    code: str
    detail: str = ""


@dataclass(frozen=True)
class IdentityResult:
    age_years: int
    region_code: str
    region_name: str
    real_name: ProviderResult[RealNameFacts]
    verified: bool


@dataclass(frozen=True)
class FactsBundle:
    """Everything gathered for the line decision; a later policy engine reads this."""

    identity: IdentityResult
    declared_monthly_income_fen: int
    bureau: ProviderResult[BureauFacts]
    income: ProviderResult[IncomeFacts]
    vehicle: ProviderResult[VehicleFacts] | None
    macro: ProviderResult[MacroFacts]

    def results(self) -> list[ProviderResult[Any]]:
        """Every provider answer gathered, in the order they were asked."""
        found = (self.identity.real_name, self.bureau, self.income, self.vehicle, self.macro)
        return [r for r in found if r is not None]

    def to_dict(self) -> dict[str, Any]:
        def result(r: ProviderResult[Any] | None) -> dict[str, Any] | None:
            if r is None:
                return None
            return {
                "provider": r.provider,
                "quality": r.quality.value,
                "reason": r.reason,
                "data_as_of": r.data_as_of.isoformat() if r.data_as_of else None,
                "facts": r.facts_dict(),
            }

        return {
            "identity": {
                "age_years": self.identity.age_years,
                "region_code": self.identity.region_code,
                "region_name": self.identity.region_name,
                "verified": self.identity.verified,
                "real_name": result(self.identity.real_name),
            },
            "declared_monthly_income_fen": self.declared_monthly_income_fen,
            "bureau": result(self.bureau),
            "income": result(self.income),
            "vehicle": result(self.vehicle),
            "macro": result(self.macro),
        }


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True)
class ApplicationOutcome:
    application_ref: str
    status: ApplicationStatus
    policy_version: str
    masked_resident_id: str
    reasons: tuple[Reason, ...]
    checks: tuple[CheckResult, ...]
    facts: FactsBundle | None
    duplicate_of: str | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = jsonable(
            {
                "application_ref": self.application_ref,
                "status": self.status.value,
                "policy_version": self.policy_version,
                "resident_id": self.masked_resident_id,
                "duplicate_of": self.duplicate_of,
                "reasons": [r.__dict__ for r in self.reasons],
                "checks": [c.__dict__ for c in self.checks],
                "facts": self.facts.to_dict() if self.facts else None,
            }
        )
        return body


class HolderRead(BaseModel):
    """Who holds an account, as staff see it: every identifier masked."""

    account_ref: str
    application_ref: str
    name: str
    resident_id: str
    mobile: str
    bank_card: str
    age_years: int
    region_code: str


class HolderSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resident_id: Annotated[StrictStr, Field(min_length=15, max_length=18), NoControl]
