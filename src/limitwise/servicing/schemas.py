"""Servicing value objects: the product definition (validated data) and command results."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from limitwise.kit.errors import InvalidInput, InvalidRequest, Problem
from limitwise.kit.fields import NoControl, PositiveFen, WholeNumber
from limitwise.kit.money import parse_amount_fen
from limitwise.servicing.models import AccountStatus
from limitwise.servicing.schedule import BPS, DAYS_PER_YEAR_APR, RepaymentType


class Timing(StrEnum):
    PAST_DUE = "past_due"
    """Due date before the business date and still unpaid."""
    DUE = "due"
    """Due on the business date."""
    IN_ADVANCE = "in_advance"
    """Not yet due: paying it is early repayment."""


class Component(StrEnum):
    PENALTY = "penalty"
    FEE = "fee"
    INTEREST = "interest"
    PRINCIPAL = "principal"


DEFAULT_WATERFALL = [
    f"{timing.value}.{component.value}"
    for timing in (Timing.PAST_DUE, Timing.DUE)
    for component in (Component.PENALTY, Component.FEE, Component.INTEREST, Component.PRINCIPAL)
] + ["in_advance.interest", "in_advance.principal"]


class Bucket(BaseModel):
    """A delinquency bucket: accounts whose days past due fall in [min_dpd, max_dpd]."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Annotated[StrictStr, Field(min_length=1, max_length=16), NoControl]
    min_dpd: WholeNumber = Field(ge=0)
    max_dpd: WholeNumber | None = None


DEFAULT_BUCKETS = [
    Bucket(name="M0", min_dpd=0, max_dpd=0),
    Bucket(name="M1", min_dpd=1, max_dpd=30),
    Bucket(name="M2", min_dpd=31, max_dpd=60),
    Bucket(name="M3", min_dpd=61, max_dpd=90),
    Bucket(name="M4+", min_dpd=91, max_dpd=None),
]


class ProductSpec(BaseModel):
    """A loan product as data. Money fields are yuan decimal strings (e.g. "100.00")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[StrictStr, Field(min_length=1, max_length=64), NoControl]
    min_line: str = "0.00"
    max_line: str = "1000000.00"
    min_draw: str = "100.00"
    repayment_types: list[RepaymentType] = Field(min_length=1)
    terms_months: list[WholeNumber] = Field(min_length=1)
    daily_rate_bps: Decimal = Field(gt=0)
    penalty_rate_multiplier: Decimal = Field(default=Decimal("1.5"), ge=0)
    grace_days: WholeNumber = Field(default=0, ge=0, le=30)
    early_repayment_fee_bps: Decimal = Field(default=Decimal(0), ge=0, le=1000)
    apr_cap: Decimal = Field(default=Decimal("0.24"), gt=0, le=1)
    #: A draw is refused once the account is more than this many days past due (DPD counts
    #: from the end of the grace days, so the default 0 allows no draw past the grace period).
    max_draw_dpd: int = Field(default=0, ge=0)
    #: The most a repayment may leave as a credit balance (overpayment owed back).
    max_credit_balance: str = "10000.00"
    waterfall: list[str] = Field(default_factory=lambda: list(DEFAULT_WATERFALL))
    buckets: list[Bucket] = Field(default_factory=lambda: list(DEFAULT_BUCKETS))

    @field_validator("min_line", "max_line", "min_draw", "max_credit_balance", mode="before")
    @classmethod
    def _money(cls, value: object, info: Any) -> str:
        try:
            parse_amount_fen(value, field=info.field_name, allow_zero=True)
        except InvalidInput as exc:  # reported with the product's other problems
            raise PydanticCustomError(exc.code, exc.message) from None
        return str(value)

    @field_validator("terms_months")
    @classmethod
    def _terms(cls, value: list[int]) -> list[int]:
        if any(not 1 <= term <= 60 for term in value) or len(set(value)) != len(value):
            raise ValueError("terms must be distinct whole months between 1 and 60")
        return value

    @field_validator("waterfall")
    @classmethod
    def _waterfall(cls, value: list[str]) -> list[str]:
        allowed = {f"{t.value}.{c.value}" for t in Timing for c in Component}
        unknown = [slot for slot in value if slot not in allowed]
        if unknown:
            raise ValueError(
                f"unknown slot(s) {unknown}; slots are timing.component from {allowed}"
            )
        if len(set(value)) != len(value):
            raise ValueError("each slot may appear once")
        return value

    @field_validator("buckets")
    @classmethod
    def _buckets(cls, value: list[Bucket]) -> list[Bucket]:
        expected_min = 0
        for i, bucket in enumerate(value):
            last = i == len(value) - 1
            if bucket.min_dpd != expected_min:
                raise ValueError(f"bucket {bucket.name} must start at {expected_min} days")
            if (bucket.max_dpd is None) != last:
                raise ValueError("only the last bucket is open-ended, and it must be")
            if bucket.max_dpd is not None:
                if bucket.max_dpd < bucket.min_dpd:
                    raise ValueError(f"bucket {bucket.name} ends before it starts")
                expected_min = bucket.max_dpd + 1
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ProductSpec:
        if self.min_line_fen > self.max_line_fen:
            raise ValueError("min_line must not exceed max_line")
        nominal_apr = self.nominal_apr
        if nominal_apr > self.apr_cap:
            raise ValueError(
                f"daily rate {self.daily_rate_bps} bps is {nominal_apr:.2%} a year, above the "
                f"APR cap of {self.apr_cap:.2%}"
            )
        return self

    @property
    def nominal_apr(self) -> Decimal:
        """The daily rate a year, as a fraction: the APR quoted before any draw."""
        return self.daily_rate_bps / BPS * DAYS_PER_YEAR_APR

    @property
    def min_line_fen(self) -> int:
        return parse_amount_fen(self.min_line, field="min_line", allow_zero=True)

    @property
    def max_line_fen(self) -> int:
        return parse_amount_fen(self.max_line, field="max_line", allow_zero=True)

    @property
    def min_draw_fen(self) -> int:
        return parse_amount_fen(self.min_draw, field="min_draw", allow_zero=True)

    @property
    def max_credit_balance_fen(self) -> int:
        return parse_amount_fen(
            self.max_credit_balance, field="max_credit_balance", allow_zero=True
        )

    @property
    def penalty_rate_bps(self) -> Decimal:
        return self.daily_rate_bps * self.penalty_rate_multiplier

    def bucket_for(self, days_past_due: int) -> str:
        for bucket in self.buckets:
            if bucket.max_dpd is None or days_past_due <= bucket.max_dpd:
                return bucket.name
        raise AssertionError("buckets cover every day count")  # guaranteed by validation

    @classmethod
    def parse(cls, data: object) -> ProductSpec:
        """Validate a product definition, reporting every broken rule at once."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidRequest(
                problems=[
                    Problem(
                        field="product." + ".".join(str(p) for p in err["loc"]) or "product",
                        rule=err["type"],
                        message=err["msg"],
                    )
                    for err in exc.errors()
                ]
            ) from None


class InstalmentState(StrEnum):
    """Where an instalment stands on the business date it is read on."""

    PAID = "paid"
    """Everything it owes is paid: once due, interest owed so far included; before, all
    it schedules (paid in advance)."""
    OVERDUE = "overdue"
    """Its due date has passed with something unpaid (days past due count from it)."""
    DUE = "due"
    """It falls due today and something is unpaid."""
    NOT_DUE = "not_due"
    """Its due date is still to come."""


@dataclass(frozen=True)
class InstalmentView:
    seq: int
    due_date: dt.date
    principal_fen: int
    interest_fen: int
    penalty_fen: int
    fee_fen: int
    paid_fen: int
    state: InstalmentState

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.penalty_fen + self.fee_fen


@dataclass(frozen=True)
class DrawView:
    """One draw on an account as it stands, money in fen."""

    ref: str
    key: str
    amount_fen: int
    repayment_type: str
    term_months: int
    drawn_on: dt.date
    apr: str
    status: str
    outstanding_principal_fen: int
    schedule: list[InstalmentView]


@dataclass(frozen=True)
class DrawResult:
    ref: str
    key: str
    account: str
    amount_fen: int
    repayment_type: str
    term_months: int
    drawn_on: dt.date
    apr: str
    entry_ref: str

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["drawn_on"] = self.drawn_on.isoformat()
        return body

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DrawResult:
        return cls(**{**data, "drawn_on": dt.date.fromisoformat(data["drawn_on"])})


@dataclass(frozen=True)
class RepaymentResult:
    ref: str
    key: str
    account: str
    amount_fen: int
    effective_date: dt.date
    allocated_fen: dict[str, int] = field(default_factory=dict)
    credit_balance_fen: int = 0
    replayed: bool = False

    def to_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["effective_date"] = self.effective_date.isoformat()
        return body

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RepaymentResult:
        return cls(**{**data, "effective_date": dt.date.fromisoformat(data["effective_date"])})


@dataclass(frozen=True)
class AccountState:
    """What a borrower or analyst sees for one credit account on a business date."""

    ref: str
    product: str
    status: str
    line_fen: int
    available_fen: int
    outstanding_principal_fen: int
    interest_receivable_fen: int
    penalty_receivable_fen: int
    due_total_fen: int
    credit_balance_fen: int
    days_past_due: int
    bucket: str
    apr: str | None
    draws: list[DrawView]


@dataclass(frozen=True)
class CobFailureView:
    """An account close of business could not close (``cob_failures``)."""

    account: str
    business_date: dt.date
    step: str
    error: str
    attempts: int


# --- the HTTP API's models: money is integer fen everywhere, nested too ----------------------


class DrawCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_fen: PositiveFen
    repayment_type: RepaymentType
    term_months: Annotated[WholeNumber, Field(ge=1, le=60)]


class RepaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_fen: PositiveFen


class InstalmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    due_date: dt.date
    principal_fen: int
    interest_fen: int
    penalty_fen: int
    fee_fen: int
    total_fen: int
    paid_fen: int
    state: InstalmentState


class DrawRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ref: str = Field(description="The draw's reference (its receipt's ref)")
    key: str = Field(description="The Idempotency-Key the draw was made with")
    amount_fen: int
    repayment_type: RepaymentType
    term_months: int
    drawn_on: dt.date
    apr: str = Field(description='Annual percentage rate, e.g. "14.60%"')
    status: str
    outstanding_principal_fen: int
    schedule: list[InstalmentRead]


class DrawScheduleRead(DrawRead):
    """One draw's repayment schedule, instalment by instalment, as of the business date."""

    account: str
    as_of: dt.date = Field(description="The business date the states are read on")


class AccountSummary(BaseModel):
    """Read from an ``AccountState`` by attribute (``model_validate``), nested draws too:
    far cheaper than ``dataclasses.asdict``, which deep-copies every instalment."""

    model_config = ConfigDict(from_attributes=True)

    ref: str
    product: str
    status: AccountStatus
    line_fen: int
    available_fen: int
    outstanding_principal_fen: int
    interest_receivable_fen: int
    penalty_receivable_fen: int
    due_total_fen: int
    credit_balance_fen: int
    days_past_due: int
    bucket: str
    apr: str | None


class AccountRead(AccountSummary):
    draws: list[DrawRead]


class AccountEventRead(BaseModel):
    kind: str
    as_of: dt.date
    details: dict[str, Any]


class DrawReceipt(BaseModel):
    ref: str
    key: str
    account: str
    amount_fen: int
    repayment_type: RepaymentType
    term_months: int
    drawn_on: dt.date
    apr: str
    entry_ref: str


class RepaymentReceipt(BaseModel):
    ref: str
    key: str
    account: str
    amount_fen: int
    effective_date: dt.date
    allocated_fen: dict[str, int] = Field(description="Fen applied to each component")
    credit_balance_fen: int
    replayed: bool


class CobFailureRead(BaseModel):
    account: str
    business_date: dt.date
    step: str
    error: str
    attempts: int


class CobStatusRead(BaseModel):
    """Where close of business stands: the date served, the last day closed, and the
    accounts still behind or failing."""

    business_date: dt.date
    cob_closed_through: dt.date | None
    simulation: bool
    accounts: int
    accounts_behind: int
    failures: list[CobFailureRead]
