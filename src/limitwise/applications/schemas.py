"""The applications API's request and response models. Money is integer fen; the
onboarding form it feeds (``onboarding/intake.py``) takes yuan, so the request converts."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StrictStr

from limitwise.kit.errors import InvalidRequest, Problem
from limitwise.kit.fields import NoControl, PositiveFen
from limitwise.kit.money import MAX_FEN, format_yuan
from limitwise.providers.schemas import ConsentPurpose

Text = Annotated[StrictStr, Field(min_length=1, max_length=200), NoControl]
#: Fen, zero allowed (a declared income may be nothing).
Fen = Annotated[StrictInt, Field(ge=0, le=MAX_FEN, description="Fen (1/100 yuan) as an integer")]
#: The onboarding form's yuan fields, by the API's fen field that carries them.
FORM_FIELDS = {
    "declared_monthly_income": "declared_monthly_income_fen",
    "vehicle.purchase_price": "vehicle.purchase_price_fen",
}


class ConsentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: ConsentPurpose
    text_version: Annotated[StrictStr, Field(min_length=1, max_length=32), NoControl] = Field(
        description="The version of the consent text the applicant was shown"
    )
    granted_at: AwareDatetime


class VehicleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plate_number: Text
    vin: Text
    model: Annotated[StrictStr, Field(min_length=1, max_length=80), NoControl]
    first_registration_year: StrictInt
    purchase_price_fen: PositiveFen
    mileage_km: Annotated[StrictInt, Field(ge=0, le=5_000_000)] | None = None
    documents: Annotated[list[Text], Field(max_length=20)] = []


class ApplicationCreate(BaseModel):
    """What an applicant declares, with their consents: the facts ``limitwise apply`` takes
    (docs/onboarding.md), amounts in fen. The numbers themselves (resident ID check digit,
    card Luhn digit, mobile, VIN, consent text and age) are checked by onboarding, every
    problem naming its field and rule."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[StrictStr, Field(min_length=1, max_length=40), NoControl]
    resident_id: Text
    mobile: Text
    bank_card: Text
    declared_monthly_income_fen: Fen
    vehicle: VehicleCreate | None = None
    consents: Annotated[list[ConsentCreate], Field(max_length=10)]
    channel: Annotated[StrictStr, Field(max_length=32), NoControl] | None = None

    def onboarding_form(self) -> dict[str, Any]:
        """The application as onboarding's form takes it: amounts in yuan."""
        form = self.model_dump(mode="json", exclude_none=True)
        form["declared_monthly_income"] = format_yuan(form.pop("declared_monthly_income_fen"))
        if self.vehicle is not None:
            vehicle = form["vehicle"]
            vehicle["purchase_price"] = format_yuan(vehicle.pop("purchase_price_fen"))
        return form


def in_api_terms(exc: InvalidRequest) -> InvalidRequest:
    """Onboarding's problems named as the API's fields: ``consents[1].purpose`` ->
    ``consents.1.purpose`` (the dotted paths of every other request problem), yuan fields
    -> their fen fields."""

    def field(name: str) -> str:
        dotted = re.sub(r"\[(\d+)\]", r".\1", name)
        return FORM_FIELDS.get(dotted, dotted)

    return InvalidRequest(
        problems=[Problem(field(p.field), p.rule, p.message) for p in exc.problems]
    )


class ApplicationState(StrEnum):
    """Where an application stands."""

    APPROVED = "approved"
    """The line policy approved a line: the account is open (``account_ref``)."""
    DECLINED = "declined"
    """Not eligible, an identity check failed, or the line policy declined: see the reasons."""
    DUPLICATE = "duplicate"
    """The same person applied within the duplicate window (``duplicate_of``)."""
    INCOMPLETE = "incomplete"
    """Eligible, but data the decision needs could not be had; resubmit later."""
    PENDING_DECISION = "pending_decision"
    """Eligible with the facts gathered; the line policy has not decided yet."""


class ReasonRead(BaseModel):
    code: str
    message: str
    message_zh: str | None = None


class ApplicationRead(BaseModel):
    """An application's status; the resident ID masked as stored."""

    application_ref: str
    status: ApplicationState
    received_on: dt.date = Field(description="The business date it was received on")
    resident_id: str = Field(description="Masked, e.g. 110105********1239")
    duplicate_of: str | None
    account_ref: str | None = Field(description="The account it opened, if approved")


class ApplicationDecisionRead(BaseModel):
    """How an application was decided: eligibility by the onboarding policy, then the line
    by the line policy, with the specific reasons (at most four for a line decision)."""

    application_ref: str
    status: ApplicationState
    decided_on: dt.date
    eligibility_policy: str = Field(description="The onboarding policy version")
    line_policy: str | None = Field(description="key@version of the line policy, if it decided")
    decision_ref: str | None
    reasons: list[ReasonRead]
    line_fen: int = Field(description="The line assigned, fen (0 when none)")
    sub_lines_fen: dict[str, int]
    account_ref: str | None
