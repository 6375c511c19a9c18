"""Auth tables. No secret is stored: passwords are argon2 hashes, API key secrets and
refresh tokens are sha256 digests (they are random and long, so a slow hash adds nothing)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from limitwise.kit.db import Base, BigId


class User(Base):
    """A person who logs in: a borrower or a member of staff."""

    __tablename__ = "auth_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean)
    #: Consecutive failed logins since the last success; reaching the limit locks the user.
    failed_logins: Mapped[int] = mapped_column(Integer)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AccountHolder(Base):
    """A credit account a borrower user holds: the accounts the borrower may see and use."""

    __tablename__ = "auth_account_holders"

    user_id: Mapped[int] = mapped_column(ForeignKey("auth_users.id"), primary_key=True)
    account_ref: Mapped[str] = mapped_column(String(64), primary_key=True)


class ApplicationSubmitter(Base):
    """The borrower user who submitted an application through the API: they may read it,
    whatever became of it (a declined application opens no account to link them by)."""

    __tablename__ = "auth_application_submitters"

    application_ref: Mapped[str] = mapped_column(String(48), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_users.id"), index=True)


class ApiKey(Base):
    """A service's key: ``lwk_<key_id>_<secret>``; only the secret's digest is kept."""

    __tablename__ = "auth_api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_digest: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(80))
    #: The scopes granted, space-separated (``accounts:read accounts:write``).
    scopes: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(Base):
    """One refresh token (its digest); using it revokes it and issues the next."""

    __tablename__ = "auth_refresh_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_users.id"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
