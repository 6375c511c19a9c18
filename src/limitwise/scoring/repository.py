"""Every scorecard registry query."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from limitwise.scoring.models import ScoreModel, ScoreModelPublication


def get_by_version(session: Session, version: str) -> ScoreModel | None:
    return session.scalars(select(ScoreModel).where(ScoreModel.version == version)).one_or_none()


def add(session: Session, row: ScoreModel | ScoreModelPublication) -> None:
    session.add(row)
    session.flush()


def latest_publications(session: Session) -> dict[str, ScoreModelPublication]:
    """The latest publication of each purpose: what is live now."""
    latest_ids = select(func.max(ScoreModelPublication.id)).group_by(ScoreModelPublication.purpose)
    rows = session.scalars(
        select(ScoreModelPublication).where(ScoreModelPublication.id.in_(latest_ids))
    )
    return {row.purpose: row for row in rows}


def list_models(session: Session) -> list[ScoreModel]:
    return list(session.scalars(select(ScoreModel).order_by(ScoreModel.purpose, ScoreModel.id)))


def get_model(session: Session, model_id: int) -> ScoreModel:
    return session.get_one(ScoreModel, model_id)
