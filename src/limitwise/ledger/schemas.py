"""Plain value objects the ledger hands out (never ORM rows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Leg:
    """One side of an entry: positive ``amount_fen`` debits the account, negative credits it."""

    account_code: str
    amount_fen: int


@dataclass(frozen=True)
class Share:
    """One owner's legs in an entry that several owners share (a summary entry): what a
    partial reversal undoes."""

    entry_id: int
    entry_ref: str
    kind: str
    effective_date: dt.date
    legs: tuple[Leg, ...]


@dataclass(frozen=True)
class PostedEntry:
    entry_ref: str
    kind: str
    effective_date: dt.date
    legs: tuple[Leg, ...]
    reverses_entry_ref: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry_ref": self.entry_ref,
            "kind": self.kind,
            "effective_date": self.effective_date.isoformat(),
            "legs": [[leg.account_code, leg.amount_fen] for leg in self.legs],
            "reverses_entry_ref": self.reverses_entry_ref,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PostedEntry:
        return cls(
            entry_ref=data["entry_ref"],
            kind=data["kind"],
            effective_date=dt.date.fromisoformat(data["effective_date"]),
            legs=tuple(Leg(code, int(amount)) for code, amount in data["legs"]),
            reverses_entry_ref=data.get("reverses_entry_ref"),
        )


@dataclass(frozen=True)
class HoldView:
    hold_ref: str
    debit_account_code: str
    credit_account_code: str
    amount_fen: int
    status: str
    entry_ref: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HoldView:
        return cls(**data)


@dataclass(frozen=True)
class AccountBalance:
    code: str
    kind: str
    purpose: str
    owner_ref: str | None
    balance_fen: int
    pending_debit_fen: int
    debit_limit_fen: int | None

    @property
    def available_fen(self) -> int | None:
        """Room left under the debit limit, never below zero (None when unbounded)."""
        if self.debit_limit_fen is None:
            return None
        return max(0, self.debit_limit_fen - self.balance_fen - self.pending_debit_fen)


class TrialBalanceRead(BaseModel):
    """The trial balance as the API returns it: ``ok`` iff every entry balances."""

    ok: bool
    entries_checked: int
    accounts_checked: int
    grand_total_fen: int
    totals_by_purpose_fen: dict[str, int]
    problems: list[str]
