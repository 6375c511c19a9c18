"""What providers hand out: typed facts wrapped in a result with provenance and a verdict."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ProviderKind(StrEnum):
    REALNAME = "realname"
    """Real-name verification: does the name match the ID, is the card/mobile the person's."""
    BUREAU = "bureau"
    """Credit bureau report: score, overdue history, multi-lender borrowing, linked accounts."""
    INCOME = "income"
    """Salary flow and housing provident fund contributions."""
    VEHICLE = "vehicle"
    """Vehicle registry (ownership, VIN) and valuation."""
    MACRO = "macro"
    """An economic index (e.g. PMI) the policy maps to a risk-appetite factor."""


class ConsentPurpose(StrEnum):
    IDENTITY_VERIFICATION = "identity_verification"
    """May send name, ID, card and mobile to the real-name verification service."""
    BUREAU_QUERY = "bureau_query"
    """May query the applicant's credit report."""
    INCOME_DATA = "income_data"
    """May read salary flow and housing provident fund records."""
    VEHICLE_DATA = "vehicle_data"
    """May query the vehicle registry and value the vehicle."""


#: The consent each personal-data provider needs before it may be called.
PURPOSE_OF_KIND: dict[ProviderKind, ConsentPurpose] = {
    ProviderKind.REALNAME: ConsentPurpose.IDENTITY_VERIFICATION,
    ProviderKind.BUREAU: ConsentPurpose.BUREAU_QUERY,
    ProviderKind.INCOME: ConsentPurpose.INCOME_DATA,
    ProviderKind.VEHICLE: ConsentPurpose.VEHICLE_DATA,
}


class Quality(StrEnum):
    OK = "ok"
    """Complete, fresh and self-consistent."""
    MISSING = "missing"
    """No record, or not asked (no consent): there are no facts."""
    STALE = "stale"
    """The record is older than the policy accepts; facts are kept but flagged."""
    INCONSISTENT = "inconsistent"
    """Fields contradict each other or break their range; no facts are trusted."""
    UNAVAILABLE = "unavailable"
    """The provider failed (timeout, HTTP error, malformed response)."""


@dataclass(frozen=True)
class ConsentGrant:
    """Proof that the applicant consented to ``purpose``: the only key that opens a provider."""

    purpose: ConsentPurpose
    consent_ref: str
    text_version: str


@dataclass(frozen=True)
class Subject:
    """Who a provider is asked about. Plaintext PII: sent to providers, never stored or logged."""

    name: str
    resident_id: str
    mobile: str
    bank_card: str

    def __repr__(self) -> str:
        return "Subject(<redacted>)"


@dataclass(frozen=True)
class VehicleQuery:
    """The declared vehicle the vehicle provider checks and values."""

    vin: str
    plate_number: str
    model: str
    first_registration_year: int
    purchase_price_fen: int
    mileage_km: int | None

    def __repr__(self) -> str:
        return f"VehicleQuery(model={self.model!r}, year={self.first_registration_year})"


@dataclass(frozen=True)
class RealNameFacts:
    name_matches_id: bool
    card_in_own_name: bool
    mobile_in_own_name: bool


@dataclass(frozen=True)
class BureauFacts:
    credit_score: int
    overdue_count_24m: int
    days_past_due_max_24m: int
    lenders_30d: int
    lenders_90d: int
    enquiries_30d: int
    enquiries_90d: int
    debt_elsewhere_fen: int
    linked_accounts: int
    linked_accounts_delinquent: int


@dataclass(frozen=True)
class IncomeFacts:
    salary_months: int
    salary_monthly_median_fen: int | None
    housing_fund_months: int
    housing_fund_implied_salary_fen: int | None
    verified_monthly_income_fen: int
    method: str


@dataclass(frozen=True)
class VehicleFacts:
    ownership_match: bool
    vin_check_digit_ok: bool
    model: str
    age_years: int
    mileage_km: int
    reference_price_fen: int
    valuation_fen: int
    confidence: Decimal
    confidence_notes: tuple[str, ...]


@dataclass(frozen=True)
class MacroFacts:
    index_name: str
    period: str
    value: Decimal
    risk_appetite_factor: Decimal


@dataclass(frozen=True)
class ProviderResult(Generic[T]):
    """One provider response: who answered, when, about which date, how good it is."""

    kind: ProviderKind
    provider: str
    fetched_at: dt.datetime
    data_as_of: dt.date | None
    quality: Quality
    reason: str | None
    facts: T | None

    @property
    def usable(self) -> bool:
        """Facts exist and are trusted (ok, or stale but kept for the policy to weigh)."""
        return self.facts is not None and self.quality in (Quality.OK, Quality.STALE)

    def facts_dict(self) -> dict[str, Any] | None:
        return None if self.facts is None else jsonable(asdict(self.facts))  # type: ignore[call-overload]

    def summary(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return f"{self.kind.value} via {self.provider}: {self.quality.value}{why}"


def jsonable(value: Any) -> Any:
    """Decimals as strings, dates as ISO, tuples as lists: a JSON-safe copy."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
