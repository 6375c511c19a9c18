"""Errors every domain raises; the CLI and the API turn them into clear messages.

Each error carries a stable machine ``code`` (used by scenario files and HTTP bodies), the
``field`` it is about when there is one, and a human ``message`` naming the rule broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class LimitwiseError(Exception):
    """Base class: an expected, explainable refusal (never a crash)."""

    code: str = "error"
    http_status: int = 400
    #: For a refusal that passes by itself: how long to wait before sending it again.
    retry_after_seconds: int | None = None

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{where}{self.message} [{self.code}]"


class InvalidInput(LimitwiseError):
    """A request field breaks a rule (type, range, format)."""

    code = "invalid_input"
    http_status = 422


@dataclass(frozen=True)
class Problem:
    """One broken rule in a request: which field, which rule, what was wrong."""

    field: str
    rule: str
    message: str


@dataclass
class InvalidRequest(LimitwiseError):
    """Several fields of one request are wrong; all problems are reported at once."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        lines = "; ".join(f"{p.field}: {p.message} ({p.rule})" for p in self.problems)
        LimitwiseError.__init__(self, lines or "invalid request", code="invalid_request")
        self.http_status = 422

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "problems": [p.__dict__ for p in self.problems],
        }


class NotFound(LimitwiseError):
    code = "not_found"
    http_status = 404


class Conflict(LimitwiseError):
    """The request contradicts stored state (e.g. an idempotency key reused with a new body)."""

    code = "conflict"
    http_status = 409


class Refused(LimitwiseError):
    """A valid request the business rules refuse (over the line, frozen account, ...)."""

    code = "refused"
    http_status = 422
