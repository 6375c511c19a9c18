"""Batched postings: many balanced entries written in a few statements.

Entries are staged first (rows from Python, or a query the caller computes in the
database), then checked and moved into the journal as a set: every entry must balance
(and the deferred trigger on PostgreSQL checks it again at commit), the owned accounts are
row-locked in id order, debit limits and strict balances are checked entry by entry on the
balance as it runs through the batch, each leg gets its exact running balance, and each
owned account's stored balance moves once per batch; lender-wide accounts are never
touched. Entry refs are the caller's: a deterministic ref per step makes a step that was
already posted fail on the unique ref instead of posting twice. Services never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from limitwise.kit.clock import Clock
from limitwise.kit.errors import NotFound
from limitwise.kit.money import format_yuan
from limitwise.ledger import repository
from limitwise.ledger.schemas import Leg
from limitwise.ledger.service import LimitExceeded, UnbalancedEntry, WouldOverdraw, check_legs


@dataclass(frozen=True)
class NewEntry:
    """An entry for a batch; ``entry_ref`` is chosen by the caller (unique)."""

    entry_ref: str
    kind: str
    effective_date: dt.date
    legs: tuple[Leg, ...]
    description: str = ""


def begin(session: Session) -> None:
    """Open an empty staging area on this transaction's connection."""
    repository.prepare_staging(session)


def stage_sql(session: Session, select_sql: str, params: dict[str, Any]) -> None:
    """Stage the legs a ``SELECT`` computes, with the columns of
    :data:`limitwise.ledger.repository.STAGED_COLUMNS` in that order."""
    repository.stage_sql(session, select_sql, params)


def post_entries(session: Session, clock: Clock, entries: Sequence[NewEntry]) -> int:
    """Post ``entries`` in order as one batch; returns how many were posted."""
    for entry in entries:
        check_legs(entry.legs)
    codes = {leg.account_code for entry in entries for leg in entry.legs}
    ids = repository.account_ids_by_code(session, codes)
    missing = sorted(codes - ids.keys())
    if missing:
        raise NotFound(f"no ledger account {missing[0]!r}", field="account")
    begin(session)
    repository.stage_rows(
        session,
        [
            {
                "entry_no": entry_no,
                "leg_no": leg_no,
                "entry_ref": entry.entry_ref,
                "kind": entry.kind,
                "effective_date": entry.effective_date,
                "description": entry.description[:200],
                "account_id": ids[leg.account_code],
                "amount_fen": leg.amount_fen,
            }
            for entry_no, entry in enumerate(entries)
            for leg_no, leg in enumerate(entry.legs)
        ],
    )
    return post_staged(session, clock)


def post_staged(session: Session, clock: Clock) -> int:
    """Check the staged entries, then append them; raises before writing anything."""
    bad = repository.bad_staged_entry(session)
    if bad is not None:
        ref, total, legs, smallest = bad
        raise UnbalancedEntry(
            f"entry {ref}: legs sum to {total} fen over {legs} leg(s), smallest "
            f"{smallest} fen (an entry needs two non-zero legs summing to zero)",
            field="legs",
        )
    breach = repository.lock_staged_accounts_and_find_breach(session)
    if breach is not None:
        code, reached, rule = breach
        if rule == "limit":
            raise LimitExceeded(
                f"account {code} would reach {format_yuan(reached)}, over its line",
                field="amount",
            )
        raise WouldOverdraw(
            f"account {code} would go to {format_yuan(reached)}, past zero on its abnormal side",
            field="amount",
        )
    return repository.move_staged_into_journal(session, posted_at=clock.now())
