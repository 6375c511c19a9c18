"""The audit API's models."""

from __future__ import annotations

from pydantic import BaseModel


class VerificationRead(BaseModel):
    ok: bool
    records_checked: int
    first_bad_seq: int | None
    problem: str
