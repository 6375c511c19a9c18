"""Small helpers shared by the ledger tests."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.ledger import service as ledger
from limitwise.ledger.chart import CreditPurpose, LenderPurpose, credit_code, lender_code
from limitwise.ledger.idempotency import run_idempotent
from limitwise.ledger.models import Hold, JournalEntry
from limitwise.ledger.schemas import PostedEntry

FUNDING = lender_code(LenderPurpose.FUNDING)


def principal(ref: str) -> str:
    return credit_code(ref, CreditPurpose.PRINCIPAL)


def open_books(engine: Engine, clock: Clock, ref: str, line_fen: int) -> None:
    with unit_of_work(engine) as session:
        ledger.open_credit_books(session, clock, owner_ref=ref, line_fen=line_fen)


def draw(engine: Engine, clock: Clock, ref: str, amount_fen: int) -> PostedEntry:
    with unit_of_work(engine) as session:
        hold = ledger.reserve(
            session, clock, debit_code=principal(ref), credit_code=FUNDING, amount_fen=amount_fen
        )
        return ledger.post_hold(session, clock, hold_ref=hold.hold_ref)


def keyed_draw(engine: Engine, clock: Clock, ref: str, amount_fen: int, key: str) -> PostedEntry:
    """A draw made idempotent on ``key``, as servicing and the API make it."""
    with unit_of_work(engine) as session:

        def action() -> PostedEntry:
            hold = ledger.reserve(
                session,
                clock,
                debit_code=principal(ref),
                credit_code=FUNDING,
                amount_fen=amount_fen,
            )
            return ledger.post_hold(session, clock, hold_ref=hold.hold_ref)

        return run_idempotent(
            session,
            clock,
            key=key,
            command="draw",
            request={"account": ref, "amount_fen": amount_fen},
            action=action,
            dump=PostedEntry.to_dict,
            load=PostedEntry.from_dict,
        )


def repay(engine: Engine, clock: Clock, ref: str, amount_fen: int) -> PostedEntry:
    with unit_of_work(engine) as session:
        return ledger.transfer(
            session,
            clock,
            debit_code=FUNDING,
            credit_code=principal(ref),
            amount_fen=amount_fen,
            kind="repayment",
        )


def principal_state(engine: Engine, ref: str) -> tuple[int, int, int | None]:
    """(balance, pending, line) of a credit account's principal."""
    with unit_of_work(engine) as session:
        row = ledger.balance(session, principal(ref))
    return row.balance_fen, row.pending_debit_fen, row.debit_limit_fen


def row_counts(engine: Engine) -> tuple[int, int]:
    with unit_of_work(engine) as session:
        entries = session.scalar(select(func.count(JournalEntry.id)))
        holds = session.scalar(select(func.count(Hold.id)))
    return int(entries or 0), int(holds or 0)
