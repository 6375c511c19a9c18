"""``/v1/auth/token`` (OAuth2 password and refresh grants), ``/v1/me``, and the admin's
users, roles and API keys. Every change here is logged in the audit chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path

from limitwise.api.runtime import Runtime, runtime
from limitwise.audit import service as audit
from limitwise.auth import service
from limitwise.auth.principal import CurrentPrincipal
from limitwise.auth.schemas import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyRead,
    Me,
    Role,
    RoleRead,
    TokenRequest,
    TokenResponse,
    UserCreate,
    UserRead,
    UserUpdate,
)
from limitwise.kit.errors import InvalidInput

public_router = APIRouter(tags=["auth"])
router = APIRouter(tags=["admin"])
RuntimeDep = Annotated[Runtime, Depends(runtime)]
UsernamePath = Annotated[str, Path(max_length=64)]
KeyIdPath = Annotated[str, Path(max_length=32)]


@public_router.post("/auth/token")
def token(form: Annotated[TokenRequest, Form()], rt: RuntimeDep) -> TokenResponse:
    """Log in (``grant_type=password``) or swap a refresh token for new tokens."""
    if form.grant_type == "refresh_token":
        if form.refresh_token is None:
            raise _missing("refresh_token")
        with rt.transaction() as (session, clock):
            return service.refresh(session, clock, rt.settings, token=form.refresh_token)
    if form.username is None or form.password is None:
        raise _missing("username" if form.username is None else "password")
    with rt.transaction() as (session, clock):
        outcome = service.login(
            session, clock, rt.settings, username=form.username, password=form.password
        )
    if isinstance(outcome, service.Unauthenticated):
        raise outcome  # after the commit: the failed attempt is counted
    return outcome


def _missing(field: str) -> InvalidInput:
    return InvalidInput(f"{field} is required for this grant", code="missing", field=field)


@router.get("/me")
def me(principal: CurrentPrincipal) -> Me:
    return Me(
        username=principal.subject,
        role=principal.role,
        account_refs=sorted(principal.account_refs),
    )


ROLE_DESCRIPTIONS = {role: (role.__doc__ or "").strip() for role in Role}


@router.get("/roles")
def roles() -> list[RoleRead]:
    return [RoleRead(role=role, description=text) for role, text in ROLE_DESCRIPTIONS.items()]


@router.get("/users")
def list_users(rt: RuntimeDep) -> list[UserRead]:
    with rt.transaction() as (session, clock):
        return service.list_users(session, clock)


@router.post("/users", status_code=201)
def create_user(body: UserCreate, rt: RuntimeDep, principal: CurrentPrincipal) -> UserRead:
    with rt.transaction() as (session, clock):
        user = service.create_user(session, clock, spec=body)
        audit.record(
            session,
            clock,
            actor=principal.subject,
            action="user.create",
            target=f"user:{user.username}",
            after=user.model_dump(mode="json"),
        )
    return user


@router.get("/users/{username}")
def get_user(username: UsernamePath, rt: RuntimeDep) -> UserRead:
    with rt.transaction() as (session, clock):
        return service.get_user(session, clock, username=username)


@router.patch("/users/{username}")
def update_user(
    username: UsernamePath, body: UserUpdate, rt: RuntimeDep, principal: CurrentPrincipal
) -> UserRead:
    with rt.transaction() as (session, clock):
        return audit.change(
            session,
            clock,
            actor=principal.subject,
            action="user.update",
            target=f"user:{username}",
            snapshot=lambda: service.get_user(session, clock, username=username).model_dump(
                mode="json"
            ),
            apply=lambda: service.update_user(session, clock, username=username, spec=body),
        )


@router.get("/api-keys")
def list_api_keys(rt: RuntimeDep) -> list[ApiKeyRead]:
    with rt.transaction() as (session, _clock):
        return service.list_api_keys(session)


@router.post("/api-keys", status_code=201)
def create_api_key(body: ApiKeyCreate, rt: RuntimeDep, principal: CurrentPrincipal) -> ApiKeyIssued:
    with rt.transaction() as (session, clock):
        issued = service.create_api_key(session, clock, spec=body, created_by=principal.subject)
        audit.record(
            session,
            clock,
            actor=principal.subject,
            action="api_key.create",
            target=f"api_key:{issued.key_id}",
            after=issued.model_dump(mode="json", exclude={"key"}),
        )
    return issued


@router.delete("/api-keys/{key_id}")
def revoke_api_key(key_id: KeyIdPath, rt: RuntimeDep, principal: CurrentPrincipal) -> ApiKeyRead:
    with rt.transaction() as (session, clock):
        revoked = service.revoke_api_key(session, clock, key_id=key_id)
        audit.record(
            session,
            clock,
            actor=principal.subject,
            action="api_key.revoke",
            target=f"api_key:{key_id}",
            after=revoked.model_dump(mode="json"),
        )
    return revoked
