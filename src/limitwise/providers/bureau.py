"""Credit bureau: score 350-950, overdue history, multi-lender borrowing, linked accounts."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from limitwise.kit.clock import Clock
from limitwise.kit.money import MAX_FEN, to_fen
from limitwise.providers.base import RecordSource, SourceRecord, obtain, require_consent
from limitwise.providers.schemas import (
    BureauFacts,
    ConsentGrant,
    ProviderKind,
    ProviderResult,
    Subject,
)

SCORE_MIN = 350
SCORE_MAX = 950


class BureauRecord(SourceRecord):
    credit_score: int = Field(ge=SCORE_MIN, le=SCORE_MAX)
    overdue_count_24m: int = Field(ge=0)
    days_past_due_max_24m: int = Field(ge=0)
    lenders_30d: int = Field(ge=0)
    lenders_90d: int = Field(ge=0)
    enquiries_30d: int = Field(ge=0)
    enquiries_90d: int = Field(ge=0)
    debt_elsewhere: Decimal = Field(ge=0, le=Decimal(MAX_FEN) / 100, decimal_places=2)
    linked_accounts: int = Field(ge=0)
    linked_accounts_delinquent: int = Field(ge=0)


def contradiction(r: BureauRecord) -> str | None:
    """Counts over 30 days cannot exceed the same counts over 90 days, and so on."""
    if r.lenders_30d > r.lenders_90d:
        return "lenders_30d exceeds lenders_90d"
    if r.enquiries_30d > r.enquiries_90d:
        return "enquiries_30d exceeds enquiries_90d"
    if r.linked_accounts_delinquent > r.linked_accounts:
        return "linked_accounts_delinquent exceeds linked_accounts"
    if (r.overdue_count_24m == 0) != (r.days_past_due_max_24m == 0):
        return "overdue_count_24m and days_past_due_max_24m disagree"
    return None


def interpret(r: BureauRecord) -> BureauFacts:
    return BureauFacts(
        credit_score=r.credit_score,
        overdue_count_24m=r.overdue_count_24m,
        days_past_due_max_24m=r.days_past_due_max_24m,
        lenders_30d=r.lenders_30d,
        lenders_90d=r.lenders_90d,
        enquiries_30d=r.enquiries_30d,
        enquiries_90d=r.enquiries_90d,
        debt_elsewhere_fen=to_fen(r.debt_elsewhere),
        linked_accounts=r.linked_accounts,
        linked_accounts_delinquent=r.linked_accounts_delinquent,
    )


def report(
    source: RecordSource,
    *,
    subject: Subject,
    grant: ConsentGrant | None,
    clock: Clock,
    max_age_days: int | None,
) -> ProviderResult[BureauFacts]:
    require_consent(ProviderKind.BUREAU, grant)
    query = {
        "name": subject.name,
        "resident_id": subject.resident_id,
        "business_date": clock.today().isoformat(),
    }
    return obtain(
        ProviderKind.BUREAU,
        source,
        query,
        clock,
        schema=BureauRecord,
        interpret=interpret,
        contradiction=contradiction,
        max_age_days=max_age_days,
    )
