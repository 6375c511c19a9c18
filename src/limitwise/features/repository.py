"""Every features query: the servicing and line rows the feature definitions read, as of a
business date, for the whole book or restricted to one account (the same statement with
one more ``WHERE``), and the stored macro facts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Row, Select, and_, or_, select
from sqlalchemy.orm import Session

from limitwise.features.models import MacroFact
from limitwise.lines.models import LineDecision, Trigger
from limitwise.servicing.models import (
    AccountEvent,
    Allocation,
    CreditAccount,
    Draw,
    Instalment,
    Product,
)
from limitwise.servicing.schemas import Component

#: Account events the features read up to the as-of date (``line_changed`` is read whole:
#: a change after the as-of date tells what the line was before it).
SIGNAL_KINDS = (
    "bucket_changed",
    "drawn",
    "repaid",
    "bureau_update",
    "revaluation",
    "device_anomaly",
    "login_anomaly",
    "fraud_confirmed",
)


AnySelect: TypeAlias = "Select[*tuple[Any, ...]]"


def _paid_by(as_of: dt.date) -> ColumnElement[bool]:
    """Money in by ``as_of``: repayments dated up to it, and what close of business took
    from the credit balance on the days before it (COB closes ``as_of`` after it)."""
    return or_(
        Allocation.effective_date < as_of,
        and_(Allocation.effective_date == as_of, Allocation.repayment_id.is_not(None)),
    )


def _only(stmt: AnySelect, column: Any, account_id: int | None) -> AnySelect:
    return stmt if account_id is None else stmt.where(column == account_id)


def source_queries(as_of: dt.date, account_id: int | None = None) -> dict[str, AnySelect]:
    """The statements behind every source frame, by name (the benchmark's floor runs them
    bare)."""
    opened = CreditAccount.opened_on <= as_of
    return {
        "accounts": _only(
            select(
                CreditAccount.id,
                CreditAccount.ref,
                CreditAccount.product_id,
                CreditAccount.opened_on,
                CreditAccount.line_fen,
            ).where(opened),
            CreditAccount.id,
            account_id,
        ),
        "signals": _only(
            select(
                AccountEvent.id,
                AccountEvent.credit_account_id,
                AccountEvent.kind,
                AccountEvent.as_of,
                AccountEvent.payload_json,
            ).where(AccountEvent.kind.in_(SIGNAL_KINDS), AccountEvent.as_of <= as_of),
            AccountEvent.credit_account_id,
            account_id,
        ),
        "line_changes": _only(
            select(
                AccountEvent.id,
                AccountEvent.credit_account_id,
                AccountEvent.as_of,
                AccountEvent.payload_json,
            ).where(AccountEvent.kind == "line_changed"),
            AccountEvent.credit_account_id,
            account_id,
        ),
        "draws": _only(
            select(Draw.id, Draw.credit_account_id, Draw.amount_fen, Draw.drawn_on).where(
                Draw.drawn_on <= as_of
            ),
            Draw.credit_account_id,
            account_id,
        ),
        "instalments": _only(
            select(
                Instalment.id,
                Instalment.draw_id,
                Draw.credit_account_id,
                Draw.repayment_type,
                Instalment.due_date,
                Instalment.principal_due_fen,
                Instalment.interest_scheduled_fen,
                Instalment.interest_accrued_fen,
            )
            .join(Draw, Draw.id == Instalment.draw_id)
            .where(Draw.drawn_on <= as_of),
            Draw.credit_account_id,
            account_id,
        ),
        "paid": _only(
            select(
                Allocation.credit_account_id,
                Allocation.instalment_id,
                Instalment.draw_id,
                Allocation.component,
                Allocation.amount_fen,
                Allocation.effective_date,
            )
            .join(Instalment, Instalment.id == Allocation.instalment_id)
            .where(
                Allocation.superseded.is_(False),
                _paid_by(as_of),
                Allocation.component.in_((Component.PRINCIPAL.value, Component.INTEREST.value)),
            ),
            Allocation.credit_account_id,
            account_id,
        ),
        "applications": _only(
            select(CreditAccount.id, LineDecision.features_json)
            .join(
                LineDecision,
                and_(
                    LineDecision.account_ref == CreditAccount.ref,
                    LineDecision.trigger == Trigger.APPLICATION.value,
                ),
            )
            .where(opened),
            CreditAccount.id,
            account_id,
        ),
    }


def fetch(session: Session, stmt: AnySelect) -> Sequence[Row[*tuple[Any, ...]]]:
    return session.execute(stmt).all()


def copy_csv(session: Session, stmt: AnySelect) -> bytes | None:
    """On PostgreSQL, the rows of ``stmt`` as CSV through ``COPY ... TO STDOUT`` in the
    session's transaction (the bulk path: no Python object per row); None elsewhere. The
    statements hold only dates, numbers and constant names, rendered as escaped literals."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return None
    sql = stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
        return b"".join(bytes(chunk) for chunk in copy)


def product_definitions(session: Session) -> dict[int, str]:
    """Each product's stored definition (JSON text), by id: a handful of rows."""
    rows = session.execute(select(Product.id, Product.definition_json)).all()
    return {product_id: definition for product_id, definition in rows}


def account_id_of(session: Session, ref: str) -> int | None:
    return session.scalar(select(CreditAccount.id).where(CreditAccount.ref == ref))


def macro_as_of(session: Session, as_of: dt.date) -> str | None:
    """The risk-appetite factor in force on ``as_of`` (the latest set on or before it)."""
    return session.scalar(
        select(MacroFact.risk_appetite)
        .where(MacroFact.as_of <= as_of)
        .order_by(MacroFact.as_of.desc(), MacroFact.id.desc())
        .limit(1)
    )


def add_macro(session: Session, fact: MacroFact) -> None:
    session.add(fact)
    session.flush()
