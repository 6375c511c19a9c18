"""Turn a submitted application (any JSON) into a validated request, or every problem.

One pydantic pass checks the shape (types, required fields, no unknown fields) and, through
field validators, the numbers themselves (resident ID, card, mobile, VIN, amounts, consent
texts), so every problem comes back at once in an :class:`InvalidRequest`, each naming the
field (``vehicle.vin``, ``consents[1].purpose``) and the rule. Nothing else ever escapes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from limitwise.kit.clock import Clock
from limitwise.kit.errors import InvalidInput, InvalidRequest, Problem
from limitwise.kit.fields import NoControl
from limitwise.kit.money import parse_amount_fen
from limitwise.onboarding.identity import (
    check_bank_card,
    check_cn_mobile,
    check_resident_id,
    check_vin_format,
)
from limitwise.onboarding.policy import OnboardingPolicy
from limitwise.onboarding.schemas import ApplicationRequest, ConsentInput, VehicleInput
from limitwise.providers.schemas import ConsentPurpose, VehicleQuery

#: A personal name: letters (any script), the middle dot of transliterated names, spaces.
NAME_PATTERN = re.compile(r"[^\W\d_]+(?:[ ·•][^\W\d_]+)*")
#: Mainland plate: province character, issuing-office letter, 5 (fuel) or 6 (new energy).
PLATE_PATTERN = re.compile(r"[\u4e00-\u9fa5][A-Z][A-HJ-NP-Z0-9]{5,6}")
FIRST_REGISTRATION_YEAR_MIN = 1950


def _clock(info: ValidationInfo) -> Clock:
    clock: Clock = (info.context or {})["clock"]
    return clock


def _policy(info: ValidationInfo) -> OnboardingPolicy:
    policy: OnboardingPolicy = (info.context or {})["policy"]
    return policy


def _rule(check: Callable[[Any, ValidationInfo], Any]) -> Callable[[Any, ValidationInfo], Any]:
    """Run a domain check inside pydantic: its InvalidInput becomes a field error."""

    def run(value: Any, info: ValidationInfo) -> Any:
        try:
            return check(value, info)
        except InvalidInput as exc:
            raise PydanticCustomError(exc.code, exc.message) from None

    return run


def _name(value: str, _info: ValidationInfo) -> str:
    name = value.strip()
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInput("a name is letters, with · or spaces between parts", code="name_format")
    return name


def _plate(value: str, _info: ValidationInfo) -> str:
    plate = value.strip().upper()
    if not PLATE_PATTERN.fullmatch(plate):
        raise InvalidInput(
            "a plate is a province character, a letter and 5-6 letters or digits",
            code="plate_format",
        )
    return plate


def _registration_year(value: int, info: ValidationInfo) -> int:
    this_year = _clock(info).today().year
    if not FIRST_REGISTRATION_YEAR_MIN <= value <= this_year:
        raise InvalidInput(
            f"must be between {FIRST_REGISTRATION_YEAR_MIN} and {this_year}", code="year_range"
        )
    return value


def _consent_time(value: dt.datetime, info: ValidationInfo) -> dt.datetime:
    clock, policy = _clock(info), _policy(info)
    if value > clock.now():
        raise InvalidInput("consent is dated in the future", code="not_in_future")
    if (clock.today() - value.date()).days > policy.consent_max_age_days:
        raise InvalidInput(
            f"consent is older than {policy.consent_max_age_days} days", code="consent_fresh"
        )
    return value


Text = Annotated[StrictStr, Field(max_length=200), NoControl]
ResidentIdText = Annotated[
    Text, AfterValidator(_rule(lambda v, i: check_resident_id(v, today=_clock(i).today()).number))
]
MobileText = Annotated[Text, AfterValidator(_rule(lambda v, _i: check_cn_mobile(v)))]
CardText = Annotated[Text, AfterValidator(_rule(lambda v, _i: check_bank_card(v)))]
VinText = Annotated[Text, AfterValidator(_rule(lambda v, _i: check_vin_format(v)))]
IncomeFen = Annotated[
    int, BeforeValidator(_rule(lambda v, _i: parse_amount_fen(v, field="", allow_zero=True)))
]
PriceFen = Annotated[int, BeforeValidator(_rule(lambda v, _i: parse_amount_fen(v, field="")))]


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VehicleForm(_Form):
    plate_number: Annotated[Text, AfterValidator(_rule(_plate))]
    vin: VinText
    model: Annotated[StrictStr, Field(min_length=1, max_length=80), NoControl]
    first_registration_year: Annotated[StrictInt, AfterValidator(_rule(_registration_year))]
    purchase_price: PriceFen
    mileage_km: Annotated[StrictInt, Field(ge=0, le=5_000_000)] | None = None
    documents: Annotated[list[Text], Field(max_length=20)] = []


class ConsentForm(_Form):
    purpose: ConsentPurpose
    text_version: Annotated[StrictStr, Field(min_length=1, max_length=32), NoControl]
    granted_at: Annotated[AwareDatetime, AfterValidator(_rule(_consent_time))]

    @field_validator("text_version")
    @classmethod
    def _known_text(cls, value: str, info: ValidationInfo) -> str:
        purpose = info.data.get("purpose")
        accepted = _policy(info).consent_text_versions.get(purpose, ()) if purpose else ()
        if purpose is not None and value not in accepted:
            raise PydanticCustomError(
                "known_consent_text",
                "consent text version {version} is not one the applicant could have been shown "
                "(accepted: {accepted})",
                {"version": value, "accepted": ", ".join(accepted) or "none"},
            )
        return value


class ApplicationForm(_Form):
    name: Annotated[
        StrictStr, Field(min_length=1, max_length=40), NoControl, AfterValidator(_rule(_name))
    ]
    resident_id: ResidentIdText
    mobile: MobileText
    bank_card: CardText
    declared_monthly_income: IncomeFen
    vehicle: VehicleForm | None = None
    consents: Annotated[list[ConsentForm], Field(max_length=10)]
    channel: Annotated[StrictStr, Field(max_length=32), NoControl] | None = None

    @model_validator(mode="after")
    def _one_consent_per_purpose(self) -> ApplicationForm:
        purposes = [c.purpose for c in self.consents]
        if len(purposes) != len(set(purposes)):
            raise PydanticCustomError("unique", "each consent purpose may be given once")
        return self


def field_path(loc: Sequence[int | str]) -> str:
    """``("consents", 1, "purpose")`` -> ``consents[1].purpose``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "application"


def parse_application(raw: Any, *, clock: Clock, policy: OnboardingPolicy) -> ApplicationRequest:
    """Validate ``raw`` completely; raise :class:`InvalidRequest` listing every problem."""
    if not isinstance(raw, dict):
        raise InvalidRequest(
            problems=[Problem("application", "object", "an application is a JSON object")]
        )
    try:
        form = ApplicationForm.model_validate(raw, context={"clock": clock, "policy": policy})
    except ValidationError as exc:
        raise InvalidRequest(
            problems=[Problem(field_path(e["loc"]), e["type"], e["msg"]) for e in exc.errors()]
        ) from None
    vehicle = None
    if form.vehicle is not None:
        v = form.vehicle
        query = VehicleQuery(
            v.vin,
            v.plate_number,
            v.model.strip(),
            v.first_registration_year,
            v.purchase_price,
            v.mileage_km,
        )
        vehicle = VehicleInput(query, tuple(v.documents))
    return ApplicationRequest(
        name=form.name,
        resident=check_resident_id(form.resident_id, today=clock.today()),
        mobile=form.mobile,
        bank_card=form.bank_card,
        declared_monthly_income_fen=form.declared_monthly_income,
        vehicle=vehicle,
        consents=tuple(
            ConsentInput(c.purpose, c.text_version, c.granted_at) for c in form.consents
        ),
        channel=form.channel,
    )
