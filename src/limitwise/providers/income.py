"""Income: salary flow and housing provident fund (公积金) -> a verified monthly income.

Salary: the median monthly salary credit over the last six months (at least three months).
Housing fund: employee and employer each pay ``contribution_rate`` of the salary base, so
the monthly deposit implies a salary of ``contribution / (2 * rate)`` (at least six months
paid). With both, the verified income is the lower; when they differ by more than a factor
of two the record is inconsistent.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from limitwise.kit.clock import Clock
from limitwise.kit.money import MAX_FEN, to_fen
from limitwise.providers.base import RecordSource, SourceRecord, obtain, require_consent
from limitwise.providers.schemas import (
    ConsentGrant,
    IncomeFacts,
    ProviderKind,
    ProviderResult,
    Subject,
)

SALARY_WINDOW_MONTHS = 6
SALARY_MONTHS_MIN = 3
HOUSING_FUND_MONTHS_MIN = 6
#: Salary flow and housing fund may differ by this factor before the record is inconsistent.
AGREEMENT_FACTOR_MAX = Decimal(2)
MAX_YUAN = Decimal(MAX_FEN) / 100


class SalaryCredit(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    amount: Decimal = Field(ge=0, le=MAX_YUAN, decimal_places=2)


class HousingFund(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    monthly_contribution: Decimal = Field(gt=0, le=MAX_YUAN, decimal_places=2)
    #: Each side's rate (China: 5%-12% of the salary base).
    contribution_rate: Decimal = Field(ge=Decimal("0.05"), le=Decimal("0.12"))
    months_paid: int = Field(ge=0, le=1200)


class IncomeRecord(SourceRecord):
    salary_credits: list[SalaryCredit] = Field(default_factory=list, max_length=600)
    housing_fund: HousingFund | None = None


def salary_by_month(r: IncomeRecord) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for credit in r.salary_credits:
        totals[credit.month] += credit.amount
    return dict(totals)


def salary_median(r: IncomeRecord) -> tuple[int, Decimal | None]:
    months = sorted(salary_by_month(r).items())[-SALARY_WINDOW_MONTHS:]
    if len(months) < SALARY_MONTHS_MIN:
        return len(months), None
    return len(months), Decimal(statistics.median(amount for _month, amount in months))


def housing_fund_salary(r: IncomeRecord) -> Decimal | None:
    fund = r.housing_fund
    if fund is None or fund.months_paid < HOUSING_FUND_MONTHS_MIN:
        return None
    return fund.monthly_contribution / (2 * fund.contribution_rate)


def contradiction(r: IncomeRecord) -> str | None:
    latest_month = r.as_of.strftime("%Y-%m")
    if any(credit.month > latest_month for credit in r.salary_credits):
        return "salary credit dated after the record's as_of"
    _months, salary = salary_median(r)
    fund_salary = housing_fund_salary(r)
    if salary and fund_salary:
        low, high = sorted((salary, fund_salary))
        if high > low * AGREEMENT_FACTOR_MAX:
            return "salary flow and housing fund disagree by more than a factor of 2"
    return None


def interpret(r: IncomeRecord) -> IncomeFacts:
    months, salary = salary_median(r)
    fund_salary = housing_fund_salary(r)
    found = {"salary_flow": salary, "housing_fund": fund_salary}
    available = {method: value for method, value in found.items() if value is not None}
    if not available:
        verified, method = Decimal(0), "insufficient_history"
    else:
        verified = min(available.values())
        method = "+".join(sorted(available))
    return IncomeFacts(
        salary_months=months,
        salary_monthly_median_fen=None if salary is None else to_fen(salary),
        housing_fund_months=r.housing_fund.months_paid if r.housing_fund else 0,
        housing_fund_implied_salary_fen=None if fund_salary is None else to_fen(fund_salary),
        verified_monthly_income_fen=to_fen(verified),
        method=method,
    )


def verify_income(
    source: RecordSource,
    *,
    subject: Subject,
    grant: ConsentGrant | None,
    clock: Clock,
    max_age_days: int | None,
) -> ProviderResult[IncomeFacts]:
    require_consent(ProviderKind.INCOME, grant)
    query = {
        "name": subject.name,
        "resident_id": subject.resident_id,
        "business_date": clock.today().isoformat(),
    }
    return obtain(
        ProviderKind.INCOME,
        source,
        query,
        clock,
        schema=IncomeRecord,
        interpret=interpret,
        contradiction=contradiction,
        max_age_days=max_age_days,
    )
