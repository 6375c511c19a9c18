"""The principal of the request, for endpoints: resolved and authorized before they run
(``api/authz.py``), so an endpoint only reads it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from limitwise.auth.schemas import Principal


def current_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    assert isinstance(principal, Principal), f"{request.url.path} is not behind authorize"
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
