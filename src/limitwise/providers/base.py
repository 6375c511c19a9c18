"""The provider interface and the one routine every provider call goes through.

A :class:`RecordSource` answers a query with one JSON-like record (or ``None`` when it has
none) and raises :class:`SourceUnavailable` when it cannot answer. :func:`obtain` turns that
answer into a :class:`ProviderResult`: schema errors and contradictions become
``inconsistent``, old records ``stale``, failures ``unavailable`` — each with a named reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from limitwise.kit.clock import Clock
from limitwise.kit.errors import Refused
from limitwise.providers.schemas import (
    PURPOSE_OF_KIND,
    ConsentGrant,
    ProviderKind,
    ProviderResult,
    Quality,
)

T = TypeVar("T")
R = TypeVar("R", bound="SourceRecord")

log = logging.getLogger(__name__)


class SourceUnavailable(Exception):
    """The source could not answer; ``reason`` is a short stable name such as ``timeout``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConsentMissing(Refused):
    code = "consent_missing"


class RecordSource(Protocol):
    """Where a provider's records come from: a local file or an HTTP service."""

    @property
    def name(self) -> str: ...

    def fetch(self, query: Mapping[str, str]) -> dict[str, Any] | None: ...


class SourceRecord(BaseModel):
    """Base of every record schema: unknown fields ignored, types checked strictly enough."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    as_of: dt.date


def require_consent(kind: ProviderKind, grant: ConsentGrant | None) -> ConsentGrant:
    """Refuse to reach a personal-data provider without the matching consent."""
    purpose = PURPOSE_OF_KIND[kind]
    if grant is None or grant.purpose != purpose:
        raise ConsentMissing(
            f"no {purpose.value} consent: the {kind.value} provider may not be called",
            field="consents",
        )
    return grant


def not_asked(kind: ProviderKind, provider: str, clock: Clock, reason: str) -> ProviderResult[Any]:
    """The result recorded when a provider was deliberately not called."""
    return ProviderResult(kind, provider, clock.now(), None, Quality.MISSING, reason, None)


def describe_validation_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "record"
    return f"invalid_record: {where}: {first['msg']}"


def obtain(
    kind: ProviderKind,
    source: RecordSource,
    query: Mapping[str, str],
    clock: Clock,
    *,
    schema: type[R],
    interpret: Callable[[R], T],
    contradiction: Callable[[R], str | None],
    max_age_days: int | None,
) -> ProviderResult[T]:
    """Ask ``source``, validate against ``schema``, judge quality, build the facts."""
    fetched_at = clock.now()

    def result(
        quality: Quality, reason: str | None, as_of: dt.date | None, facts: T | None
    ) -> ProviderResult[T]:
        if quality is not Quality.OK:
            log.info("%s provider %s: %s (%s)", kind.value, source.name, quality.value, reason)
        return ProviderResult(kind, source.name, fetched_at, as_of, quality, reason, facts)

    try:
        raw = source.fetch(query)
    except SourceUnavailable as exc:
        return result(Quality.UNAVAILABLE, exc.reason, None, None)
    if raw is None:
        return result(Quality.MISSING, "no_record", None, None)
    try:
        record = schema.model_validate(raw)
    except ValidationError as exc:
        return result(Quality.INCONSISTENT, describe_validation_error(exc), None, None)
    if record.as_of > clock.today():
        return result(Quality.INCONSISTENT, f"as_of {record.as_of} is in the future", None, None)
    problem = contradiction(record)
    if problem is not None:
        return result(Quality.INCONSISTENT, problem, record.as_of, None)
    facts = interpret(record)
    age_days = (clock.today() - record.as_of).days
    if max_age_days is not None and age_days > max_age_days:
        reason = f"stale: as_of {record.as_of} is {age_days} days old (max {max_age_days})"
        return result(Quality.STALE, reason, record.as_of, facts)
    return result(Quality.OK, None, record.as_of, facts)
