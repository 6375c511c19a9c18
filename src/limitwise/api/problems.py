"""One error shape for every error the server sends: RFC 9457 problem details.

``type``, ``title``, ``status`` and ``detail`` as the RFC defines them, plus the project's
``code`` (stable, machine-readable), ``field`` when one field is at fault and ``problems``:
every broken rule as ``{field, rule, message}``. Refusals, malformed requests, unknown
paths and methods, database trouble and unexpected failures all use it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from limitwise.kit.errors import InvalidRequest, LimitwiseError

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:limitwise:problem:"
log = logging.getLogger(__name__)

#: Codes for the errors the framework raises itself (routing, body parsing).
_HTTP_CODES = {
    400: "invalid_body",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


class ProblemItem(BaseModel):
    """One broken rule: the field (dotted path, ``body`` for the body itself) and the rule."""

    field: str
    rule: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error response carries them."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    problems: list[ProblemItem] = []


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    problems: Sequence[ProblemItem] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The one way the server answers an error."""
    body = Problem(
        type=TYPE_PREFIX + code,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        field=field,
        problems=list(problems),
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_JSON,
    )


def _refusal(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LimitwiseError)
    if isinstance(exc, InvalidRequest):
        items = [ProblemItem(field=p.field, rule=p.rule, message=p.message) for p in exc.problems]
    elif exc.field is not None:
        items = [ProblemItem(field=exc.field, rule=exc.code, message=exc.message)]
    else:  # a refusal of the request as a whole, not of one of its fields
        items = []
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.retry_after_seconds is not None:
        headers["Retry-After"] = str(exc.retry_after_seconds)
    return problem_response(
        exc.http_status,
        exc.code,
        exc.message,
        field=exc.field,
        problems=items,
        headers=headers or None,
    )


def _field_of(error: Mapping[str, Any]) -> str:
    """``body.amount`` -> ``amount``; the position of a JSON syntax error is not a field."""
    if error["type"] == "json_invalid":
        return "body"
    parts = [str(part) for part in error["loc"] if part not in {"body", "query", "path"}]
    return ".".join(parts) or "body"


def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error["type"] == "json_invalid" for error in errors):
        detail = "the body is not valid JSON: " + str(errors[0].get("ctx", {}).get("error", ""))
        item = ProblemItem(field="body", rule="json_invalid", message=detail)
        return problem_response(400, "invalid_body", detail, field="body", problems=[item])
    items = [
        ProblemItem(field=_field_of(error), rule=error["type"], message=error["msg"])
        for error in errors
    ]
    detail = "; ".join(f"{p.field}: {p.message}" for p in items)
    if len(items) == 1:  # one broken rule reads like the same refusal made by a service
        return problem_response(422, items[0].rule, detail, field=items[0].field, problems=items)
    return problem_response(422, "invalid_request", detail, problems=items)


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 400:
        detail = "the body could not be read as JSON (invalid UTF-8, too deep, or too large)"
    elif exc.status_code == 404:
        detail = "no such path"
    return problem_response(exc.status_code, code, detail, headers=exc.headers)


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        500, "internal_error", "an unexpected error occurred; it has been logged"
    )


def install(app: FastAPI) -> None:
    """Route every kind of error the app can raise to the one shape."""
    app.add_exception_handler(LimitwiseError, _refusal)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` describing the problem shape for these error statuses."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
