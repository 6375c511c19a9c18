"""Vehicle: registry check (ownership, VIN) and a valuation with a stated confidence.

valuation = reference price x retained share for the vehicle's age x mileage factor.
The reference price is the model's new price from the provider's price guide, else the
declared purchase price (less confidence). Each doubt (unknown model, declared facts that
disagree with the registry, a bad VIN check digit, unknown mileage) lowers the confidence.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field
from vininfo import Vin

from limitwise.kit.clock import Clock
from limitwise.kit.money import MAX_FEN, from_fen, to_fen
from limitwise.providers.base import RecordSource, SourceRecord, obtain, require_consent
from limitwise.providers.schemas import (
    ConsentGrant,
    ProviderKind,
    ProviderResult,
    Subject,
    VehicleFacts,
    VehicleQuery,
)

CONFIDENCE_PLACES = Decimal("0.01")


def vin_check_digit_ok(vin: str) -> bool:
    """Position 9 check digit (ISO 3779 / GB 16735) — required on vehicles sold in China."""
    return bool(Vin(vin).verify_checksum())


def vin_model_years(vin: str) -> list[int]:
    """Candidate model years from position 10 (the code repeats every 30 years)."""
    return [int(year) for year in Vin(vin).years]


class DepreciationCurve(BaseModel):
    """Share of the new price a vehicle retains by age in whole years (policy data)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    retained_by_age: tuple[Decimal, ...] = tuple(
        Decimal(s) for s in ("1.00", "0.82", "0.71", "0.62", "0.54", "0.47", "0.41", "0.36")
    )
    #: Each year past the table loses this share, down to ``retained_floor``.
    yearly_loss_after_table: Decimal = Decimal("0.04")
    retained_floor: Decimal = Decimal("0.10")
    expected_km_per_year: int = 15_000
    #: Value change per 10,000 km over (negative) or under (positive) the expected mileage.
    mileage_adjust_per_10k_km: Decimal = Decimal("0.02")
    mileage_factor_min: Decimal = Decimal("0.70")
    mileage_factor_max: Decimal = Decimal("1.05")

    def retained(self, age_years: int) -> Decimal:
        table = self.retained_by_age
        if age_years < len(table):
            return table[age_years]
        beyond = age_years - len(table) + 1
        return max(self.retained_floor, table[-1] - beyond * self.yearly_loss_after_table)

    def mileage_factor(self, age_years: int, mileage_km: int) -> Decimal:
        expected_km = self.expected_km_per_year * max(age_years, 1)
        delta_10k = Decimal(expected_km - mileage_km) / 10_000
        factor = 1 + delta_10k * self.mileage_adjust_per_10k_km
        return min(self.mileage_factor_max, max(self.mileage_factor_min, factor))


class VehicleRecord(SourceRecord):
    vin: str = Field(min_length=17, max_length=17)
    owner_matches: bool
    model: str = Field(min_length=1, max_length=120)
    first_registration_year: int = Field(ge=1950, le=2200)
    mileage_km: int | None = Field(default=None, ge=0, le=5_000_000)
    reference_price: Decimal | None = Field(default=None, gt=0, le=Decimal(MAX_FEN) / 100)


def value_vehicle(
    r: VehicleRecord, vehicle: VehicleQuery, curve: DepreciationCurve, today_year: int
) -> VehicleFacts:
    penalties: list[tuple[str, Decimal]] = []
    if r.reference_price is not None:
        reference = r.reference_price
    else:
        reference = from_fen(vehicle.purchase_price_fen)
        penalties.append(
            ("model not in price guide: declared purchase price used", Decimal("0.25"))
        )
    if r.model != vehicle.model:
        penalties.append(("declared model differs from the registry", Decimal("0.20")))
    if r.first_registration_year != vehicle.first_registration_year:
        penalties.append(("declared registration year differs from the registry", Decimal("0.10")))
    check_digit_ok = vin_check_digit_ok(vehicle.vin)
    if not check_digit_ok:
        penalties.append(("VIN check digit does not match", Decimal("0.30")))
    elif not any(
        abs(year - r.first_registration_year) <= 1 for year in vin_model_years(vehicle.vin)
    ):
        penalties.append(("VIN model year differs from the registration year", Decimal("0.10")))
    age_years = max(0, today_year - r.first_registration_year)
    mileage_km = r.mileage_km if r.mileage_km is not None else vehicle.mileage_km
    if mileage_km is None:
        mileage_km = curve.expected_km_per_year * age_years
        penalties.append(("mileage unknown: expected mileage assumed", Decimal("0.20")))
    value = reference * curve.retained(age_years) * curve.mileage_factor(age_years, mileage_km)
    confidence = max(Decimal(0), 1 - sum((p for _note, p in penalties), Decimal(0)))
    return VehicleFacts(
        ownership_match=r.owner_matches,
        vin_check_digit_ok=check_digit_ok,
        model=r.model,
        age_years=age_years,
        mileage_km=mileage_km,
        reference_price_fen=to_fen(reference),
        valuation_fen=to_fen(value),
        confidence=confidence.quantize(CONFIDENCE_PLACES),
        confidence_notes=tuple(note for note, _p in penalties),
    )


def check_and_value(
    source: RecordSource,
    *,
    subject: Subject,
    vehicle: VehicleQuery,
    grant: ConsentGrant | None,
    clock: Clock,
    curve: DepreciationCurve,
    max_age_days: int | None,
) -> ProviderResult[VehicleFacts]:
    require_consent(ProviderKind.VEHICLE, grant)
    query = {
        "resident_id": subject.resident_id,
        "vin": vehicle.vin,
        "plate_number": vehicle.plate_number,
        "model": vehicle.model,
        "business_date": clock.today().isoformat(),
    }

    def contradiction(r: VehicleRecord) -> str | None:
        if r.vin.upper() != vehicle.vin:
            return "registry answered about another VIN"
        if r.first_registration_year > r.as_of.year:
            return "first registration year is after the record's as_of"
        return None

    return obtain(
        ProviderKind.VEHICLE,
        source,
        query,
        clock,
        schema=VehicleRecord,
        interpret=lambda r: value_vehicle(r, vehicle, curve, clock.today().year),
        contradiction=contradiction,
        max_age_days=max_age_days,
    )
