"""Roles, scopes, the resolved principal, and the auth API's request and response models."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from limitwise.kit.fields import NoControl


class Role(StrEnum):
    BORROWER = "borrower"
    """Sees and acts on the accounts they hold, nothing else."""
    ANALYST = "analyst"
    """Reads the book (personal data masked, each read audited), policies and scorecards."""
    ADMIN = "admin"
    """Everything an analyst may, plus users, roles and API keys."""
    SERVICE = "service"
    """A lender's system calling with an API key; limited to the key's scopes."""


class Scope(StrEnum):
    """What an API key may do; a route names the scope a service needs."""

    ACCOUNTS_READ = "accounts:read"
    ACCOUNTS_WRITE = "accounts:write"
    LEDGER_READ = "ledger:read"
    BOOK_READ = "book:read"
    APPLICATIONS_READ = "applications:read"
    APPLICATIONS_WRITE = "applications:write"


@dataclass(frozen=True)
class Principal:
    """Who is calling, resolved from a bearer token or an API key on every request."""

    subject: str
    role: Role
    #: The accounts a borrower holds (empty for staff and services).
    account_refs: frozenset[str] = frozenset()
    #: An API key's scopes; ``None`` for users, whose role alone decides.
    scopes: frozenset[Scope] | None = None

    def sees(self, account_ref: str) -> bool:
        """The one ownership rule: a borrower sees only the accounts they hold; staff and
        services (whose routes and scopes the matrix limits) see the book."""
        return self.role is not Role.BORROWER or account_ref in self.account_refs


Username = Annotated[StrictStr, Field(min_length=3, max_length=64, pattern=r"^[a-z0-9._-]+$")]
Password = Annotated[StrictStr, Field(min_length=8, max_length=256), NoControl]
AccountRef = Annotated[StrictStr, Field(min_length=1, max_length=64)]
AccountRefs = Annotated[list[AccountRef], Field(max_length=100)]


class TokenResponse(BaseModel):
    """OAuth2 token response (RFC 6749 §5.1)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the access token is valid")
    refresh_token: str


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: Password
    role: Role
    account_refs: AccountRefs = Field(
        default_factory=list, description="Accounts a borrower holds (borrowers only)"
    )


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    active: bool | None = None
    account_refs: AccountRefs | None = None
    password: Password | None = None


class UserRead(BaseModel):
    username: str
    role: Role
    active: bool
    locked: bool
    account_refs: list[str]
    created_at: dt.datetime


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[StrictStr, Field(min_length=1, max_length=80), NoControl]
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=len(Scope))]


class ApiKeyRead(BaseModel):
    key_id: str
    name: str
    scopes: list[Scope]
    created_by: str
    created_at: dt.datetime
    revoked: bool


class ApiKeyIssued(ApiKeyRead):
    key: str = Field(description="The whole key, shown once: send it as X-API-Key")


class RoleRead(BaseModel):
    role: Role
    description: str


class TokenRequest(BaseModel):
    """The OAuth2 token request (form-encoded): a password grant or a refresh grant."""

    grant_type: Literal["password", "refresh_token"]
    username: Annotated[StrictStr, Field(max_length=64)] | None = None
    password: Annotated[StrictStr, Field(max_length=256)] | None = None
    refresh_token: Annotated[StrictStr, Field(max_length=128)] | None = None


class Me(BaseModel):
    username: str
    role: Role
    account_refs: list[str]
