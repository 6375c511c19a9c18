"""The scorecard registry: register versions, publish one as live per purpose, look it up."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from limitwise.kit.clock import Clock
from limitwise.kit.errors import Conflict, InvalidInput, NotFound
from limitwise.scoring import repository
from limitwise.scoring.artifact import artifact_sha256, dump_scorecard, scorecard_from_json
from limitwise.scoring.models import ScoreModel, ScoreModelPublication
from limitwise.scoring.schemas import Purpose, RegistryEntry, Scorecard


def _require_person(value: str, field: str) -> str:
    person = value.strip()
    if not person or len(person) > 64:
        raise InvalidInput(
            "must name who acts (1 to 64 characters)", field=field, code="person_required"
        )
    return person


def _utc(stamp: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back naive; they were written in UTC."""
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=dt.UTC)


def _entry(row: ScoreModel, live: ScoreModelPublication | None) -> RegistryEntry:
    is_live = live is not None and live.model_id == row.id
    return RegistryEntry(
        version=row.version,
        purpose=row.purpose,
        artifact_sha256=row.artifact_sha256,
        registered_by=row.registered_by,
        registered_at=_utc(row.registered_at),
        live=is_live,
        published_by=live.published_by if live is not None and is_live else None,
        published_at=_utc(live.published_at) if live is not None and is_live else None,
    )


def register_scorecard(
    session: Session, *, clock: Clock, scorecard: Scorecard, registered_by: str
) -> RegistryEntry:
    """Store an artifact under its version; registering the same artifact again is a no-op."""
    person = _require_person(registered_by, "registered_by")
    digest = artifact_sha256(scorecard)
    existing = repository.get_by_version(session, scorecard.version)
    if existing is not None:
        if existing.artifact_sha256 != digest:
            raise Conflict(
                f"version {scorecard.version} is already registered with a different artifact",
                field="version",
                code="version_taken",
            )
        return _entry(existing, repository.latest_publications(session).get(existing.purpose))
    row = ScoreModel(
        version=scorecard.version,
        purpose=scorecard.purpose.value,
        artifact_sha256=digest,
        artifact_json=dump_scorecard(scorecard),
        registered_by=person,
        registered_at=clock.now(),
    )
    repository.add(session, row)
    return _entry(row, None)


def publish_scorecard(
    session: Session, *, clock: Clock, version: str, published_by: str
) -> RegistryEntry:
    """Make a registered version the live one for its purpose (appends to the history)."""
    person = _require_person(published_by, "published_by")
    row = repository.get_by_version(session, version)
    if row is None:
        raise NotFound(f"no registered scorecard {version!r}", field="version")
    publication = ScoreModelPublication(
        purpose=row.purpose, model_id=row.id, published_by=person, published_at=clock.now()
    )
    repository.add(session, publication)
    return _entry(row, publication)


def live_entry(session: Session, *, purpose: Purpose) -> RegistryEntry:
    publication = repository.latest_publications(session).get(purpose.value)
    if publication is None:
        raise NotFound(f"no scorecard is live for {purpose.value}", field="purpose")
    return _entry(repository.get_model(session, publication.model_id), publication)


def live_scorecard(session: Session, *, purpose: Purpose) -> Scorecard:
    """The live artifact for ``purpose``, ready to score with."""
    publication = repository.latest_publications(session).get(purpose.value)
    if publication is None:
        raise NotFound(f"no scorecard is live for {purpose.value}", field="purpose")
    row = repository.get_model(session, publication.model_id)
    return scorecard_from_json(row.artifact_json, field="artifact_json")


def list_scorecards(session: Session) -> list[RegistryEntry]:
    live = repository.latest_publications(session)
    return [_entry(row, live.get(row.purpose)) for row in repository.list_models(session)]
