"""Every provider-response query."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from limitwise.providers.models import ProviderResponse


def add_all(session: Session, rows: Sequence[ProviderResponse]) -> None:
    session.add_all(rows)
    session.flush()


def responses_for(session: Session, application_ref: str) -> Sequence[ProviderResponse]:
    return session.scalars(
        select(ProviderResponse)
        .where(ProviderResponse.application_ref == application_ref)
        .order_by(ProviderResponse.id)
    ).all()
