"""Authorization in one place: the matrix of every route -> who may call it, and the
dependency that resolves the caller and applies the matrix before any endpoint runs.

A route's entry names the roles allowed, the scope an API key needs, and the path
parameter naming an account the caller must be able to see (``Principal.sees``: a
borrower, only the accounts they hold) or an application (``applications.visible_to``: a
borrower, only those they submitted or whose account they hold). A borrower asking for
someone else's account or application gets the same 404 as for one that does not exist,
so refs cannot be probed. The app refuses to start if a route has no entry; adding a
domain is its ``endpoints.py`` plus its lines here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.orm import Session

from limitwise.applications import service as applications
from limitwise.auth import service
from limitwise.auth.schemas import Principal, Role, Scope
from limitwise.businessdate.flows import dated_snapshot, dated_unit_of_work
from limitwise.kit.clock import Clock
from limitwise.kit.errors import LimitwiseError, NotFound

TOKEN_URL = "/v1/auth/token"
ALL_ROLES = frozenset(Role)
STAFF = frozenset({Role.ANALYST, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    #: What an API key needs (services); ``None``: no key may call the route.
    scope: Scope | None = None
    #: The path parameter naming an account the caller must see.
    account_param: str | None = None
    #: The path parameter naming an application the caller must see.
    application_param: str | None = None
    #: The endpoint opens its own short transactions (it calls data providers between
    #: them): the caller is resolved in one of its own, ended before the endpoint runs.
    own_transactions: bool = False
    #: The endpoint only reads: its unit of work is one read-only snapshot, in which the
    #: business date is read without taking its lock (``dated_snapshot``).
    snapshot: bool = False

    @property
    def public(self) -> bool:
        return not self.roles


PUBLIC = Rule(roles=frozenset())
READERS = STAFF | {Role.BORROWER, Role.SERVICE}
MOVERS = frozenset({Role.BORROWER, Role.SERVICE})
#: An account read: anyone who sees the account, from one snapshot.
ACCOUNT_READ = Rule(READERS, Scope.ACCOUNTS_READ, "ref", snapshot=True)

#: ``METHOD path`` -> rule, for every route the app serves.
MATRIX: dict[str, Rule] = {
    "POST /v1/auth/token": PUBLIC,
    "GET /v1/health": PUBLIC,
    "GET /v1/ready": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /v1/floor": PUBLIC,
    # interactive docs, from local assets
    "GET /docs": PUBLIC,
    "GET /docs/oauth2-redirect": PUBLIC,
    "GET /redoc": PUBLIC,
    "GET /v1/me": Rule(ALL_ROLES - {Role.SERVICE}),
    # accounts
    "GET /v1/accounts": Rule(READERS, Scope.ACCOUNTS_READ, snapshot=True),
    "GET /v1/accounts/{ref}": ACCOUNT_READ,
    "GET /v1/accounts/{ref}/events": ACCOUNT_READ,
    "POST /v1/accounts/{ref}/draws": Rule(MOVERS, Scope.ACCOUNTS_WRITE, "ref"),
    "GET /v1/accounts/{ref}/draws/{draw_ref}/schedule": ACCOUNT_READ,
    "POST /v1/accounts/{ref}/repayments": Rule(MOVERS, Scope.ACCOUNTS_WRITE, "ref"),
    "GET /v1/accounts/{ref}/line-history": ACCOUNT_READ,
    # applications: a borrower applies for themselves, a service on behalf of an applicant
    "POST /v1/applications": Rule(MOVERS, Scope.APPLICATIONS_WRITE, own_transactions=True),
    "GET /v1/applications/{ref}": Rule(READERS, Scope.APPLICATIONS_READ, application_param="ref"),
    "GET /v1/applications/{ref}/decision": Rule(
        READERS, Scope.APPLICATIONS_READ, application_param="ref"
    ),
    # personal data, masked, for staff (every read audited)
    "GET /v1/accounts/{ref}/holder": Rule(STAFF),
    "POST /v1/holders/search": Rule(STAFF),
    # policies and scorecards
    "GET /v1/policies": Rule(STAFF),
    "POST /v1/policies": Rule(STAFF),
    "GET /v1/policies/{policy_key}/diff": Rule(STAFF),
    "GET /v1/scorecards": Rule(STAFF),
    # the book, for staff
    "GET /v1/ledger/trial-balance": Rule(STAFF | {Role.SERVICE}, Scope.LEDGER_READ),
    "GET /v1/cob/status": Rule(STAFF | {Role.SERVICE}, Scope.BOOK_READ),
    "GET /v1/audit/verify": Rule(ADMIN),
    # administration
    "GET /v1/roles": Rule(ADMIN),
    "GET /v1/users": Rule(ADMIN),
    "POST /v1/users": Rule(ADMIN),
    "GET /v1/users/{username}": Rule(ADMIN),
    "PATCH /v1/users/{username}": Rule(ADMIN),
    "GET /v1/api-keys": Rule(ADMIN),
    "POST /v1/api-keys": Rule(ADMIN),
    "DELETE /v1/api-keys/{key_id}": Rule(ADMIN),
}

oauth2 = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


class RateLimited(LimitwiseError):
    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class RateLimiter:
    """A fixed window per principal (per client address for public routes), in memory:
    each server process counts its own requests."""

    def __init__(self, rate: str) -> None:
        self.rate = parse(rate)
        self.limiter = FixedWindowRateLimiter(MemoryStorage())

    def hit(self, who: str, now_epoch: float) -> None:
        if self.limiter.hit(self.rate, who):
            return
        stats = self.limiter.get_window_stats(self.rate, who)
        wait = max(1, math.ceil(stats.reset_time - now_epoch))
        raise RateLimited(
            f"more than {self.rate} requests; retry in {wait} s (setting LIMITWISE_RATE_LIMIT)",
            retry_after_seconds=wait,
        )


def rule_of(request: Request) -> Rule:
    """The matched route's rule, found by its endpoint (``bind_rules``)."""
    rules = request.app.state.rules
    return rules[(request.scope["endpoint"], request.method)]  # type: ignore[no-any-return]


async def anonymous(request: Request) -> None:
    """Public routes: no credential, rate-limited by client address. Async: it counts in
    memory, so it need not cost a trip through the thread pool."""
    assert rule_of(request).public
    _limit_address(request, Clock.system())


def _limit_address(request: Request, clock: Clock) -> None:
    client = request.client.host if request.client else "unknown"
    _limiter(request).hit(f"addr:{client}", clock.now().timestamp())


def authorize(
    request: Request,
    token: Annotated[str | None, Depends(oauth2)],
    key: Annotated[str | None, Depends(api_key_header)],
) -> Iterator[Principal]:
    """Resolve the caller from ``Authorization: Bearer`` or ``X-API-Key`` and apply the
    route's rule; the endpoints read the result (``auth.principal``).

    The caller is resolved in the request's unit of work, holding the business date, which
    the endpoint then uses (``Runtime.transaction``): one transaction per request (one
    read-only snapshot for a ``snapshot`` rule). Mounted
    with ``scope="function"``, so the commit runs before the response is sent and a failed
    commit is the request's error, never a success that did not happen."""
    rule = rule_of(request)
    assert not rule.public
    if token is None and key is None:
        raise service.Unauthenticated(
            "send Authorization: Bearer <access token> or X-API-Key: <key>"
        )
    clock = Clock.system()
    opened = dated_snapshot if rule.snapshot else dated_unit_of_work
    with opened(request.app.state.engine) as unit:
        principal = _resolve(request, unit[0], clock, token=token, key=key)
        _limiter(request).hit(principal.subject, clock.now().timestamp())
        _check(rule, principal, request, unit[0])
        request.state.principal = principal
        if not rule.own_transactions:
            request.state.unit = unit
            yield principal
            return
    yield principal


def _resolve(
    request: Request, session: Session, clock: Clock, *, token: str | None, key: str | None
) -> Principal:
    try:
        if token is not None:
            return service.principal_from_token(
                session, clock, request.app.state.settings, token=token
            )
        assert key is not None
        return service.principal_from_api_key(session, key=key)
    except service.Unauthenticated:
        _limit_address(request, clock)  # guessing keys or tokens is limited too
        raise


def _check(rule: Rule, principal: Principal, request: Request, session: Session) -> None:
    if principal.role not in rule.roles:
        raise service.Forbidden(f"the {principal.role} role may not {request.method} this")
    if principal.scopes is not None and (rule.scope is None or rule.scope not in principal.scopes):
        raise service.Forbidden(f"this API key lacks the scope {rule.scope}", field="X-API-Key")
    if rule.account_param is not None:
        ref = str(request.path_params[rule.account_param])
        if not principal.sees(ref):
            raise NotFound(f"no credit account {ref!r}", field="account")
    if rule.application_param is not None:
        ref = str(request.path_params[rule.application_param])
        if not applications.visible_to(session, principal, ref=ref):
            raise applications.not_found(ref)


def _limiter(request: Request) -> RateLimiter:
    limiter = request.app.state.rate_limiter
    assert isinstance(limiter, RateLimiter)
    return limiter


def served_routes(app: FastAPI, mounted: Sequence[tuple[str, APIRouter]]) -> dict[str, APIRoute]:
    """``METHOD path`` of every route the app serves: its own and those of the routers
    ``mounted`` under their prefixes."""
    routes = [("", route) for route in app.routes]
    routes += [(prefix, route) for prefix, router in mounted for route in router.routes]
    return {
        f"{method} {prefix}{route.path}": route
        for prefix, route in routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }


def bind_rules(app: FastAPI, mounted: Sequence[tuple[str, APIRouter]]) -> None:
    """Give each route its rule, or refuse to build the app naming the routes without one."""
    served = served_routes(app, mounted)
    missing = sorted(served.keys() - MATRIX.keys())
    if missing:
        raise RuntimeError(f"routes without an authorization rule in api/authz.py: {missing}")
    stale = sorted(MATRIX.keys() - served.keys())
    if stale:
        raise RuntimeError(f"authorization rules in api/authz.py for no route: {stale}")
    app.state.rules = {
        (route.endpoint, name.split(" ", 1)[0]): MATRIX[name] for name, route in served.items()
    }
