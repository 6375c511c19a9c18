"""Real-name verification: the name matches the ID, the card and mobile are the person's."""

from __future__ import annotations

from limitwise.kit.clock import Clock
from limitwise.providers.base import RecordSource, SourceRecord, obtain, require_consent
from limitwise.providers.schemas import (
    ConsentGrant,
    ProviderKind,
    ProviderResult,
    RealNameFacts,
    Subject,
)


class RealNameRecord(SourceRecord):
    name_matches_id: bool
    card_in_own_name: bool
    mobile_in_own_name: bool


def verify(
    source: RecordSource,
    *,
    subject: Subject,
    grant: ConsentGrant | None,
    clock: Clock,
    max_age_days: int | None,
) -> ProviderResult[RealNameFacts]:
    require_consent(ProviderKind.REALNAME, grant)
    query = {
        "name": subject.name,
        "resident_id": subject.resident_id,
        "bank_card": subject.bank_card,
        "mobile": subject.mobile,
        "business_date": clock.today().isoformat(),
    }
    return obtain(
        ProviderKind.REALNAME,
        source,
        query,
        clock,
        schema=RealNameRecord,
        interpret=lambda r: RealNameFacts(
            name_matches_id=r.name_matches_id,
            card_in_own_name=r.card_in_own_name,
            mobile_in_own_name=r.mobile_in_own_name,
        ),
        contradiction=lambda r: None,
        max_age_days=max_age_days,
    )
