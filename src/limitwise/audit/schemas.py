"""The audit API's models."""

from __future__ import annotations

from pydantic import BaseModel


class VerificationRead(BaseModel):
    ok: bool
    records_checked: int
    first_bad_seq: int | None
    #: The chain of the first bad record (the log is several hash chains).
    first_bad_chain: int | None
    problem: str
