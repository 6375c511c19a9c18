"""Users, logins, tokens and API keys. Services never commit: the caller's unit of work does.

Access tokens are HS256 JWTs naming the user; every request still loads the user, so a
disabled user, a changed role or a new account link takes effect at once. Refresh tokens
and API key secrets are random, stored as sha256 digests, compared in constant time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from limitwise.auth import repository
from limitwise.auth.models import AccountHolder, ApiKey, ApplicationSubmitter, RefreshToken, User
from limitwise.auth.schemas import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyRead,
    Principal,
    Role,
    Scope,
    TokenResponse,
    UserCreate,
    UserRead,
    UserUpdate,
)
from limitwise.kit.clock import Clock
from limitwise.kit.errors import Conflict, InvalidInput, LimitwiseError, NotFound
from limitwise.kit.settings import Settings
from limitwise.servicing import service as servicing

JWT_ALGORITHM = "HS256"
API_KEY_PREFIX = "lwk"
_hasher = PasswordHasher()
#: Verified when the user does not exist, so a login takes as long either way.
_DECOY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class Unauthenticated(LimitwiseError):
    """No credential, or one that is malformed, expired, revoked or wrong."""

    code = "unauthenticated"
    http_status = 401
    headers: Mapping[str, str] = {"WWW-Authenticate": "Bearer"}


class Forbidden(LimitwiseError):
    """A valid principal asking for something its role, scopes or accounts do not allow."""

    code = "forbidden"
    http_status = 403


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive timestamps; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- users -----------------------------------------------------------------------------------


def create_user(session: Session, clock: Clock, *, spec: UserCreate) -> UserRead:
    if repository.find_user(session, spec.username) is not None:
        raise Conflict(f"user {spec.username!r} exists", code="user_exists", field="username")
    _check_holdings(session, spec.role, spec.account_refs)
    user = User(
        username=spec.username,
        password_hash=_hasher.hash(spec.password),
        role=spec.role.value,
        active=True,
        failed_logins=0,
        created_at=clock.now(),
    )
    repository.add(session, user)
    repository.replace_held_accounts(session, user.id, spec.account_refs)
    return _read(session, clock, user)


def update_user(session: Session, clock: Clock, *, username: str, spec: UserUpdate) -> UserRead:
    user = repository.lock_user(session, username)
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    role = spec.role or Role(user.role)
    refs = (
        spec.account_refs
        if spec.account_refs is not None
        else repository.held_accounts(session, user.id)
    )
    _check_holdings(session, role, refs)
    user.role = role.value
    if spec.active is not None:
        user.active = spec.active
    if spec.password is not None:
        user.password_hash = _hasher.hash(spec.password)
        user.failed_logins = 0
        user.locked_until = None
    repository.replace_held_accounts(session, user.id, refs)
    return _read(session, clock, user)


def get_user(session: Session, clock: Clock, *, username: str) -> UserRead:
    user = repository.find_user(session, username)
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    return _read(session, clock, user)


def list_users(session: Session, clock: Clock) -> list[UserRead]:
    return [_read(session, clock, user) for user in repository.users(session)]


def _check_holdings(session: Session, role: Role, refs: list[str]) -> None:
    if refs and role is not Role.BORROWER:
        raise InvalidInput(
            "only a borrower holds accounts", code="holder_not_borrower", field="account_refs"
        )
    for ref in refs:
        servicing.account_id(session, ref)  # NotFound names the account


def _read(session: Session, clock: Clock, user: User) -> UserRead:
    return UserRead(
        username=user.username,
        role=Role(user.role),
        active=user.active,
        locked=_is_locked(user, clock),
        account_refs=repository.held_accounts(session, user.id),
        created_at=_utc(user.created_at),
    )


def _is_locked(user: User, clock: Clock) -> bool:
    return user.locked_until is not None and _utc(user.locked_until) > clock.now()


# --- logging in ------------------------------------------------------------------------------


def login(
    session: Session, clock: Clock, settings: Settings, *, username: str, password: str
) -> TokenResponse | Unauthenticated:
    """Tokens for a right password; otherwise the refusal to raise *after* the caller's unit
    of work commits, so the failed attempt (and a lockout it causes) is kept."""
    user = repository.lock_user(session, username)
    if user is None or not user.active:
        _verify(_DECOY_HASH, password)
        return Unauthenticated("wrong username or password", code="invalid_credentials")
    if _is_locked(user, clock):
        assert user.locked_until is not None
        until = _utc(user.locked_until).isoformat(timespec="seconds")
        return Unauthenticated(f"too many failed logins: locked until {until}", code="login_locked")
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= settings.login_max_failures:
            user.failed_logins = 0
            user.locked_until = clock.now() + dt.timedelta(minutes=settings.login_lockout_minutes)
        session.flush()
        return Unauthenticated("wrong username or password", code="invalid_credentials")
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return _issue_tokens(session, clock, settings, user)


def refresh(session: Session, clock: Clock, settings: Settings, *, token: str) -> TokenResponse:
    """The next access and refresh token; the refresh token presented is used up."""
    row = repository.lock_refresh_token(session, _digest(token))
    if row is None or row.used_at is not None or _utc(row.expires_at) <= clock.now():
        raise Unauthenticated("the refresh token is unknown, used or expired", code="invalid_grant")
    row.used_at = clock.now()
    user = repository.get_user(session, row.user_id)
    if not user.active:
        raise Unauthenticated("the user is disabled", code="invalid_grant")
    return _issue_tokens(session, clock, settings, user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _issue_tokens(session: Session, clock: Clock, settings: Settings, user: User) -> TokenResponse:
    now = clock.now()
    lifetime = dt.timedelta(minutes=settings.access_token_minutes)
    claims = {"sub": user.username, "role": user.role, "iat": now, "exp": now + lifetime}
    refresh_token = secrets.token_urlsafe(32)
    repository.add(
        session,
        RefreshToken(
            digest=_digest(refresh_token),
            user_id=user.id,
            expires_at=now + dt.timedelta(days=settings.refresh_token_days),
        ),
    )
    return TokenResponse(
        access_token=jwt.encode(claims, settings.jwt_secret, algorithm=JWT_ALGORITHM),
        expires_in=int(lifetime.total_seconds()),
        refresh_token=refresh_token,
    )


# --- resolving a request's principal ---------------------------------------------------------


def principal_from_token(
    session: Session, clock: Clock, settings: Settings, *, token: str
) -> Principal:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "exp"], "verify_exp": False},
        )
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"the access token is not valid: {exc}") from None
    if dt.datetime.fromtimestamp(claims["exp"], dt.UTC) <= clock.now():
        raise Unauthenticated("the access token has expired", code="token_expired")
    found = repository.active_user_with_accounts(session, str(claims["sub"]))
    if found is None:
        raise Unauthenticated("the user of this token is disabled or gone")
    user, refs = found
    return Principal(subject=user.username, role=Role(user.role), account_refs=frozenset(refs))


def principal_from_api_key(session: Session, *, key: str) -> Principal:
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    row = repository.find_api_key(session, key_id) if prefix == API_KEY_PREFIX else None
    if row is None or not hmac.compare_digest(row.secret_digest, _digest(secret)):
        raise Unauthenticated("unknown API key", code="invalid_api_key")
    if row.revoked_at is not None:
        raise Unauthenticated("the API key has been revoked", code="api_key_revoked")
    return Principal(
        subject=f"key:{row.key_id}",
        role=Role.SERVICE,
        scopes=frozenset(Scope(s) for s in row.scopes.split()),
    )


# --- applications a borrower submitted ------------------------------------------------------


def record_submission(
    session: Session, *, username: str, application_ref: str, account_ref: str | None
) -> None:
    """A borrower submitted an application: they may read it from now on, and hold the
    account it opened (if any), in the transaction that stored it."""
    user = repository.find_user(session, username)
    assert user is not None, f"submitting user {username!r} is gone"
    repository.add(session, ApplicationSubmitter(application_ref=application_ref, user_id=user.id))
    if account_ref is not None:
        repository.add(session, AccountHolder(user_id=user.id, account_ref=account_ref))


def submitted_by(session: Session, *, username: str, application_ref: str) -> bool:
    return repository.submitter_of(session, application_ref) == username


# --- API keys --------------------------------------------------------------------------------


def create_api_key(
    session: Session, clock: Clock, *, spec: ApiKeyCreate, created_by: str
) -> ApiKeyIssued:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        key_id=key_id,
        secret_digest=_digest(secret),
        name=spec.name,
        scopes=" ".join(sorted({s.value for s in spec.scopes})),
        created_by=created_by,
        created_at=clock.now(),
    )
    repository.add(session, row)
    return ApiKeyIssued(**_key_read(row).model_dump(), key=f"{API_KEY_PREFIX}_{key_id}_{secret}")


def revoke_api_key(session: Session, clock: Clock, *, key_id: str) -> ApiKeyRead:
    row = repository.find_api_key(session, key_id)
    if row is None:
        raise NotFound(f"no API key {key_id!r}", field="key_id")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        session.flush()
    return _key_read(row)


def list_api_keys(session: Session) -> list[ApiKeyRead]:
    return [_key_read(row) for row in repository.api_keys(session)]


def _key_read(row: ApiKey) -> ApiKeyRead:
    return ApiKeyRead(
        key_id=row.key_id,
        name=row.name,
        scopes=[Scope(s) for s in row.scopes.split()],
        created_by=row.created_by,
        created_at=_utc(row.created_at),
        revoked=row.revoked_at is not None,
    )
