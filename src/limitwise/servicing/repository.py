"""Every servicing query. The credit account row is the lock that serialises an account's
draws, repayments and COB (``FOR UPDATE`` on PostgreSQL; SQLite writers are serialised by
``BEGIN IMMEDIATE``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from limitwise.servicing.models import (
    AccountEvent,
    Allocation,
    CobFailure,
    CreditAccount,
    Draw,
    DrawStatus,
    Instalment,
    Product,
    Repayment,
    ServicingPosting,
)

Row = (
    (Product | CreditAccount | Draw | Instalment | Repayment | Allocation | ServicingPosting)
    | AccountEvent
    | CobFailure
)


def add(session: Session, row: Row) -> None:
    session.add(row)
    session.flush()


def add_unflushed(session: Session, row: Row) -> None:
    """Queue a row for the next flush (bulk bookkeeping rows nobody reads back at once)."""
    session.add(row)


def add_all(session: Session, rows: Sequence[Row]) -> None:
    session.add_all(rows)
    session.flush()


def find_product(session: Session, code: str) -> Product | None:
    return session.scalars(select(Product).where(Product.code == code)).one_or_none()


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    assert product is not None
    return product


def find_account(session: Session, ref: str) -> CreditAccount | None:
    return session.scalars(select(CreditAccount).where(CreditAccount.ref == ref)).one_or_none()


def account_with_product(
    session: Session, ref: str, *, lock: bool = False
) -> tuple[CreditAccount, str] | None:
    """The account and its product's definition in one round trip; ``lock`` takes the
    account's row lock (the product row is never locked: products do not change)."""
    query = (
        select(CreditAccount, Product.definition_json)
        .join(Product, Product.id == CreditAccount.product_id)
        .where(CreditAccount.ref == ref)
    )
    if lock:
        query = query.with_for_update(of=CreditAccount)
    row = session.execute(query).one_or_none()
    return None if row is None else (row[0], row[1])


def account_refs(session: Session) -> list[str]:
    return list(session.scalars(select(CreditAccount.ref).order_by(CreditAccount.id)).all())


def accounts_behind(session: Session, as_of: dt.date) -> list[str]:
    """Accounts with a business day up to ``as_of`` that COB has not closed yet."""
    return list(
        session.scalars(
            select(CreditAccount.ref)
            .where(CreditAccount.opened_on <= as_of)
            .where(or_(CreditAccount.cob_through.is_(None), CreditAccount.cob_through < as_of))
            .order_by(CreditAccount.id)
        ).all()
    )


def draws_of(session: Session, account_id: int, *, open_only: bool = False) -> Sequence[Draw]:
    query = select(Draw).where(Draw.credit_account_id == account_id)
    if open_only:
        query = query.where(Draw.status == DrawStatus.OPEN.value)
    return session.scalars(query.order_by(Draw.seq)).all()


def latest_draw(session: Session, account_id: int) -> Draw | None:
    return session.scalars(
        select(Draw).where(Draw.credit_account_id == account_id).order_by(Draw.seq.desc()).limit(1)
    ).first()


def instalments_of(session: Session, draw_ids: Sequence[int]) -> Sequence[Instalment]:
    if not draw_ids:
        return []
    return session.scalars(
        select(Instalment)
        .where(Instalment.draw_id.in_(draw_ids))
        .order_by(Instalment.draw_id, Instalment.seq)
    ).all()


def find_draw(session: Session, ref: str) -> Draw | None:
    return session.scalars(select(Draw).where(Draw.ref == ref)).one_or_none()


def find_draw_by_key(session: Session, key: str) -> Draw | None:
    return session.scalars(select(Draw).where(Draw.idempotency_key == key)).one_or_none()


def repayments_of(session: Session, account_id: int) -> Sequence[Repayment]:
    return session.scalars(
        select(Repayment)
        .where(Repayment.credit_account_id == account_id)
        .order_by(Repayment.effective_date, Repayment.seq)
    ).all()


def live_postings(session: Session, account_id: int) -> Sequence[ServicingPosting]:
    """Postings not yet reversed, newest first (the order a replay must undo them in)."""
    return session.scalars(
        select(ServicingPosting)
        .where(ServicingPosting.credit_account_id == account_id)
        .where(ServicingPosting.reversed.is_(False))
        .order_by(ServicingPosting.id.desc())
    ).all()


def supersede_allocations(session: Session, account_id: int) -> None:
    session.execute(
        update(Allocation)
        .where(Allocation.credit_account_id == account_id)
        .where(Allocation.superseded.is_(False))
        .values(superseded=True)
    )


def live_allocations(session: Session, account_id: int) -> Sequence[Allocation]:
    return session.scalars(
        select(Allocation)
        .where(Allocation.credit_account_id == account_id)
        .where(Allocation.superseded.is_(False))
        .order_by(Allocation.id)
    ).all()


def events_of(session: Session, account_id: int | None = None) -> Sequence[AccountEvent]:
    query = select(AccountEvent).order_by(AccountEvent.id)
    if account_id is not None:
        query = query.where(AccountEvent.credit_account_id == account_id)
    return session.scalars(query).all()


def failed_account_refs(session: Session) -> list[str]:
    """Accounts the last close of business could not close, in account-id order."""
    return list(
        session.scalars(
            select(CreditAccount.ref)
            .join(CobFailure, CobFailure.credit_account_id == CreditAccount.id)
            .order_by(CreditAccount.id)
        ).all()
    )


def find_cob_failure(session: Session, account_id: int) -> CobFailure | None:
    return session.scalars(
        select(CobFailure).where(CobFailure.credit_account_id == account_id)
    ).one_or_none()


def cob_failures(session: Session) -> Sequence[tuple[str, CobFailure]]:
    rows = session.execute(
        select(CreditAccount.ref, CobFailure)
        .join(CobFailure, CobFailure.credit_account_id == CreditAccount.id)
        .order_by(CreditAccount.id)
    ).all()
    return [(ref, failure) for ref, failure in rows]


def clear_cob_failure(session: Session, account_id: int) -> None:
    session.execute(delete(CobFailure).where(CobFailure.credit_account_id == account_id))
