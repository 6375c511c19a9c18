"""Every auth query."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from limitwise.auth.models import AccountHolder, ApiKey, ApplicationSubmitter, RefreshToken, User


def add(
    session: Session, row: User | ApiKey | RefreshToken | AccountHolder | ApplicationSubmitter
) -> None:
    session.add(row)
    session.flush()


def find_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def lock_user(session: Session, username: str) -> User | None:
    """The user row locked until the transaction ends (failed-login counts never race)."""
    return session.scalars(
        select(User).where(User.username == username).with_for_update()
    ).one_or_none()


def users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.username)).all()


def held_accounts(session: Session, user_id: int) -> list[str]:
    return list(
        session.scalars(
            select(AccountHolder.account_ref)
            .where(AccountHolder.user_id == user_id)
            .order_by(AccountHolder.account_ref)
        )
    )


def active_user_with_accounts(session: Session, username: str) -> tuple[User, list[str]] | None:
    """An active user and the accounts they hold, in one round trip."""
    rows = session.execute(
        select(User, AccountHolder.account_ref)
        .outerjoin(AccountHolder, AccountHolder.user_id == User.id)
        .where(User.username == username, User.active.is_(True))
    ).all()
    if not rows:
        return None
    return rows[0][0], [ref for _, ref in rows if ref is not None]


def replace_held_accounts(session: Session, user_id: int, refs: Sequence[str]) -> None:
    session.execute(delete(AccountHolder).where(AccountHolder.user_id == user_id))
    session.add_all(AccountHolder(user_id=user_id, account_ref=ref) for ref in sorted(set(refs)))
    session.flush()


def find_api_key(session: Session, key_id: str) -> ApiKey | None:
    return session.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).one_or_none()


def api_keys(session: Session) -> Sequence[ApiKey]:
    return session.scalars(select(ApiKey).order_by(ApiKey.id)).all()


def lock_refresh_token(session: Session, digest: str) -> RefreshToken | None:
    return session.scalars(
        select(RefreshToken).where(RefreshToken.digest == digest).with_for_update()
    ).one_or_none()


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    assert user is not None, f"refresh token of a missing user {user_id}"
    return user


def submitter_of(session: Session, application_ref: str) -> str | None:
    """The username of the borrower who submitted the application, if one did."""
    return session.scalars(
        select(User.username)
        .join(ApplicationSubmitter, ApplicationSubmitter.user_id == User.id)
        .where(ApplicationSubmitter.application_ref == application_ref)
    ).one_or_none()
