"""Every policy query."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from limitwise.policy.models import PolicyActivation, PolicyVersion


def find_version(session: Session, *, policy_key: str, version: str) -> PolicyVersion | None:
    return session.scalars(
        select(PolicyVersion).where(
            PolicyVersion.policy_key == policy_key, PolicyVersion.version == version
        )
    ).one_or_none()


def versions(session: Session, *, policy_key: str | None = None) -> Sequence[PolicyVersion]:
    query = select(PolicyVersion).order_by(PolicyVersion.policy_key, PolicyVersion.id)
    if policy_key is not None:
        query = query.where(PolicyVersion.policy_key == policy_key)
    return session.scalars(query).all()


def activations(session: Session, *, policy_key: str) -> Sequence[PolicyActivation]:
    """Activation history of a key, newest first."""
    return session.scalars(
        select(PolicyActivation)
        .where(PolicyActivation.policy_key == policy_key)
        .order_by(PolicyActivation.id.desc())
    ).all()


def active_version(session: Session, *, policy_key: str) -> PolicyVersion | None:
    return session.scalars(
        select(PolicyVersion)
        .join(PolicyActivation, PolicyActivation.version_id == PolicyVersion.id)
        .where(PolicyActivation.policy_key == policy_key)
        .order_by(PolicyActivation.id.desc())
        .limit(1)
    ).one_or_none()


def get_version(session: Session, version_id: int) -> PolicyVersion | None:
    return session.get(PolicyVersion, version_id)


def add(session: Session, row: PolicyVersion | PolicyActivation) -> None:
    session.add(row)
    session.flush()
