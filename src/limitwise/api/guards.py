"""ASGI guards in front of every route: the Host allow-list, the body size limit, and
retrying a request whose transaction lost a race with the database.

They answer in the problem shape (``api/problems.py``), so even a refusal made before any
route runs reads like every other error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from limitwise.api.problems import problem_response

#: Methods whose handlers only read, so running them again cannot change anything twice.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Attempts of one request whose transaction failed on a lock, a busy database or a race.
RETRY_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 0.05
RETRY_AFTER_SECONDS = "1"


def host_name(header: str) -> str:
    """The host of a ``Host`` header without its port: ``[::1]:8000`` -> ``::1``."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class AllowedHosts:
    """Refuse requests whose ``Host`` is not one this server answers to (DNS rebinding)."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(h.strip().lower() for h in hosts if h.strip())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "*" not in self.hosts:
            host = host_name(Headers(scope=scope).get("host", ""))
            if host not in self.hosts:
                response = problem_response(
                    400,
                    "host_not_allowed",
                    f"host {host!r} is not served here; allowed: {', '.join(sorted(self.hosts))}"
                    " (setting LIMITWISE_ALLOWED_HOSTS)",
                    field="Host",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class RequestGuard:
    """Read the body under a size limit, then run the request, retrying it when safe.

    A request is safe to run again when its method only reads or it carries an
    ``Idempotency-Key`` (the money-moving POSTs): its unit of work rolled back, and a retry
    that finds the first attempt's result returns it. A transient database failure that
    outlasts the retries is a 503 with ``Retry-After``; a lost unique-key race on a request
    that may not be retried is a 409.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read_body(scope, receive)
        except _BodyTooLarge:
            response = problem_response(
                413,
                "body_too_large",
                f"the body exceeds {self.max_body_bytes} bytes (setting LIMITWISE_MAX_BODY_BYTES)",
                field="body",
            )
            await response(scope, receive, send)
            return
        headers = Headers(scope=scope)
        retryable = scope["method"] in SAFE_METHODS or "idempotency-key" in headers
        attempts = RETRY_ATTEMPTS if retryable else 1
        for attempt in range(1, attempts + 1):
            started = False
            replayed = False

            async def replay() -> Message:
                """The buffered body once, then the client's own messages (disconnect)."""
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def watch(message: Message) -> None:
                nonlocal started
                started = started or message["type"] == "http.response.start"
                await send(message)

            try:
                await self.app(scope, replay, watch)
                return
            except (OperationalError, IntegrityError) as exc:
                if started or not is_transient(exc):
                    raise
                if attempt == attempts:
                    await _database_problem(exc)(scope, receive, send)
                    return
                await asyncio.sleep(RETRY_PAUSE_SECONDS * attempt)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise _BodyTooLarge
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


def is_transient(exc: OperationalError | IntegrityError) -> bool:
    """A failure another attempt may not meet: a lock, a busy or unreachable database, a
    serialization failure, or a unique key another transaction took first. A missing table,
    a foreign key or a NOT NULL violation is a defect, not a race."""
    text = str(exc.orig).lower()
    if isinstance(exc, IntegrityError):
        return "unique" in text or "duplicate key" in text
    return not ("no such" in text or "does not exist" in text)


def _database_problem(exc: OperationalError | IntegrityError) -> JSONResponse:
    if isinstance(exc, IntegrityError):
        return problem_response(
            409,
            "concurrent_update",
            "another request changed the same records at the same time; send it again",
        )
    return problem_response(
        503,
        "database_busy",
        "the database is busy (a lock or a conflicting transaction); retry shortly",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )
