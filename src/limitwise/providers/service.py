"""Storing provider results. Services never commit: callers own the transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from limitwise.providers import repository
from limitwise.providers.models import ProviderResponse
from limitwise.providers.schemas import ProviderResult


def record_results(
    session: Session, *, results: Sequence[ProviderResult[Any]], application_ref: str | None
) -> None:
    """Keep provider answers: provider, time, data date, verdict, reason and facts."""
    repository.add_all(session, [_row(r, application_ref) for r in results])


def _row(result: ProviderResult[Any], application_ref: str | None) -> ProviderResponse:
    facts = result.facts_dict()
    return ProviderResponse(
        application_ref=application_ref,
        kind=result.kind.value,
        provider=result.provider[:80],
        fetched_at=result.fetched_at,
        data_as_of=result.data_as_of,
        quality=result.quality.value,
        reason=None if result.reason is None else result.reason[:300],
        facts_json=None if facts is None else json.dumps(facts, sort_keys=True),
    )


def stored_results(session: Session, *, application_ref: str) -> Sequence[ProviderResponse]:
    return repository.responses_for(session, application_ref)
