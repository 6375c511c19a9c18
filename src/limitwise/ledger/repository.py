"""Every ledger query.

Only accounts with an owner (a credit account's books) are ever row-locked, in ascending id
order. Lender-wide accounts (no owner) are never locked or updated: their balance is the sum
of their legs, so the book has no hot row and no lock another transaction could wait on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Executable,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from limitwise.ledger.models import (
    Hold,
    HoldStatus,
    IdempotencyRecord,
    JournalEntry,
    JournalLeg,
    LedgerAccount,
)

ACCOUNTS = cast(Table, LedgerAccount.__table__)
ENTRIES = cast(Table, JournalEntry.__table__)
LEGS = cast(Table, JournalLeg.__table__)
HOLDS = cast(Table, Hold.__table__)
KEYS = cast(Table, IdempotencyRecord.__table__)

ACCOUNT_COLUMNS = (
    ACCOUNTS.c.id,
    ACCOUNTS.c.code,
    ACCOUNTS.c.kind,
    ACCOUNTS.c.purpose,
    ACCOUNTS.c.owner_ref,
    ACCOUNTS.c.balance_fen,
    ACCOUNTS.c.pending_debit_fen,
    ACCOUNTS.c.debit_limit_fen,
    ACCOUNTS.c.strict_normal_balance,
)


@dataclass
class AccountRow:
    """A ledger account as read inside a transaction; the service mutates and writes it back."""

    id: int
    code: str
    kind: str
    purpose: str
    owner_ref: str | None
    balance_fen: int
    """The stored balance; always 0 on a lender-wide account (see ``keeps_balance``)."""
    pending_debit_fen: int
    debit_limit_fen: int | None
    strict_normal_balance: bool

    @property
    def keeps_balance(self) -> bool:
        """Whether the row stores its balance (and its legs a running balance). Lender-wide
        accounts do not: every posting in the book touches them."""
        return self.owner_ref is not None


@dataclass
class HoldRow:
    id: int
    hold_ref: str
    debit_account_id: int
    credit_account_id: int
    amount_fen: int
    status: str
    kind: str


SELECT_ACCOUNTS = select(*ACCOUNT_COLUMNS).order_by(ACCOUNTS.c.id)
OWNED = ACCOUNTS.c.owner_ref.is_not(None)
LENDER_WIDE = ACCOUNTS.c.owner_ref.is_(None)
BY_CODES = ACCOUNTS.c.code.in_(bindparam("codes", expanding=True))
BY_IDS = ACCOUNTS.c.id.in_(bindparam("ids", expanding=True))


def _lock_owned_read_lender_wide(wanted: ColumnElement[bool]) -> Executable:
    """One statement: the owned accounts ``FOR UPDATE`` in id order (in a CTE; SQLite has no
    row locks and ignores it), the lender-wide ones read without a lock."""
    locked = SELECT_ACCOUNTS.where(wanted & OWNED).with_for_update().cte("locked")
    return union_all(select(locked), select(*ACCOUNT_COLUMNS).where(wanted & LENDER_WIDE))


LOCK_BY_CODES = _lock_owned_read_lender_wide(BY_CODES)
LOCK_BY_IDS = _lock_owned_read_lender_wide(BY_IDS)
WRITE_BACK = update(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("account_id"))
INSERT_ENTRY = insert(ENTRIES).returning(ENTRIES.c.id)
INSERT_LEGS = insert(LEGS)


def _rows(session: Session, statement: Executable, **params: Any) -> list[AccountRow]:
    """Core statements run on the session's connection: no ORM flush machinery on the hot path."""
    return [AccountRow(*row) for row in session.connection().execute(statement, params)]


def lock_accounts(session: Session, codes: Iterable[str]) -> dict[str, AccountRow]:
    """Load accounts by code: owned ones with ``FOR UPDATE`` (ignored by SQLite) in id
    order, lender-wide ones without a lock."""
    rows = _rows(session, LOCK_BY_CODES, codes=sorted(set(codes)))
    return {row.code: row for row in rows}


def lock_account_ids(session: Session, ids: Iterable[int]) -> dict[int, AccountRow]:
    rows = _rows(session, LOCK_BY_IDS, ids=sorted(set(ids)))
    return {row.id: row for row in rows}


def leg_total(session: Session, account_id: int) -> int:
    """An account's balance as the sum of its legs (how lender-wide balances are read)."""
    total = session.connection().execute(
        select(func.coalesce(func.sum(LEGS.c.amount_fen), 0)).where(LEGS.c.account_id == account_id)
    )
    return int(total.scalar_one())


def find_account(session: Session, code: str) -> AccountRow | None:
    rows = _rows(session, SELECT_ACCOUNTS.where(ACCOUNTS.c.code == code))
    return rows[0] if rows else None


def accounts_of_owner(session: Session, owner_ref: str) -> list[AccountRow]:
    return _rows(session, SELECT_ACCOUNTS.where(ACCOUNTS.c.owner_ref == owner_ref))


def all_accounts(session: Session) -> list[AccountRow]:
    return _rows(session, SELECT_ACCOUNTS)


def insert_account(session: Session, **values: Any) -> None:
    session.connection().execute(insert(ACCOUNTS), values)


def write_back_accounts(session: Session, accounts: Iterable[AccountRow]) -> None:
    """Store the balances, reservations and limits the service computed."""
    rows = list(accounts)
    if not rows:
        return
    session.connection().execute(
        WRITE_BACK,
        [
            {
                "account_id": row.id,
                "balance_fen": row.balance_fen,
                "pending_debit_fen": row.pending_debit_fen,
                "debit_limit_fen": row.debit_limit_fen,
            }
            for row in rows
        ],
    )


def insert_entry(session: Session, **values: Any) -> int:
    return int(session.connection().execute(INSERT_ENTRY, values).scalar_one())


def insert_legs(session: Session, legs: list[dict[str, int | None]]) -> None:
    session.connection().execute(INSERT_LEGS, legs)


def find_entry(session: Session, entry_ref: str) -> Any:
    return session.execute(select(ENTRIES).where(ENTRIES.c.entry_ref == entry_ref)).first()


def legs_of_entry(session: Session, entry_id: int) -> list[tuple[str, int]]:
    """(account code, amount) of each leg, in posting order."""
    rows = session.execute(
        select(ACCOUNTS.c.code, LEGS.c.amount_fen)
        .join(ACCOUNTS, ACCOUNTS.c.id == LEGS.c.account_id)
        .where(LEGS.c.entry_id == entry_id)
        .order_by(LEGS.c.id)
    )
    return [(code, int(amount)) for code, amount in rows]


#: The legs of one owner's accounts in entries whose ref starts with a prefix, the owner's
#: share of each not yet reversed (no entry with the share's reversal ref), in entry order.
OWNER_SHARES = text(
    "SELECT e.id, e.entry_ref, e.kind, e.effective_date, a.code, l.amount_fen"
    " FROM ledger_accounts a JOIN journal_legs l ON l.account_id = a.id"
    " JOIN journal_entries e ON e.id = l.entry_id"
    " WHERE a.owner_ref = :owner_ref AND e.entry_ref LIKE :prefix"
    " AND NOT EXISTS (SELECT 1 FROM journal_entries r"
    " WHERE r.entry_ref = :reversal_head || CAST(e.id AS VARCHAR(20)) || :reversal_tail)"
    " ORDER BY e.id, l.id"
)


def owner_legs_not_reversed(
    session: Session, *, owner_ref: str, ref_prefix: str, reversal_ref: tuple[str, str]
) -> list[tuple[int, str, str, dt.date, str, int]]:
    """(entry id, ref, kind, date, account code, amount) of the owner's legs in entries
    whose ref starts with ``ref_prefix`` and whose share of the owner has no reversal
    (an entry with the ref ``head + entry id + tail``)."""
    rows = session.connection().execute(
        OWNER_SHARES,
        {
            "owner_ref": owner_ref,
            "prefix": ref_prefix + "%",
            "reversal_head": reversal_ref[0],
            "reversal_tail": reversal_ref[1],
        },
    )
    return [
        (int(i), ref, kind, _as_date(day), code, int(amount))
        for i, ref, kind, day, code, amount in rows
    ]


def _as_date(value: Any) -> dt.date:
    """A date column read through ``text()`` (SQLite hands back its ISO string)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def entry_ids_by_ref(session: Session, refs: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(refs))
    if not wanted:
        return {}
    rows = session.connection().execute(
        select(ENTRIES.c.entry_ref, ENTRIES.c.id).where(ENTRIES.c.entry_ref.in_(wanted))
    )
    return {ref: int(entry_id) for ref, entry_id in rows}


def is_reversed(session: Session, entry_id: int) -> bool:
    found = session.execute(
        select(ENTRIES.c.id).where(ENTRIES.c.reverses_entry_id == entry_id)
    ).first()
    return found is not None


def insert_hold(session: Session, **values: Any) -> None:
    session.connection().execute(insert(HOLDS), values)


def lock_hold(session: Session, hold_ref: str) -> HoldRow | None:
    row = session.execute(
        select(
            HOLDS.c.id,
            HOLDS.c.hold_ref,
            HOLDS.c.debit_account_id,
            HOLDS.c.credit_account_id,
            HOLDS.c.amount_fen,
            HOLDS.c.status,
            HOLDS.c.kind,
        )
        .where(HOLDS.c.hold_ref == hold_ref)
        .with_for_update()
    ).first()
    return HoldRow(*row) if row is not None else None


def resolve_hold(session: Session, hold_id: int, **values: Any) -> None:
    session.execute(update(HOLDS).where(HOLDS.c.id == hold_id).values(**values))


CLAIM_KEY = {
    "postgresql": pg_insert(KEYS)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(KEYS.c.key),
    "sqlite": sqlite_insert(KEYS)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(KEYS.c.key),
}
FIND_KEY = select(KEYS.c.command, KEYS.c.request_hash, KEYS.c.result_json).where(
    KEYS.c.key == bindparam("key")
)
STORE_RESULT = update(KEYS).where(KEYS.c.key == bindparam("claimed_key"))


def claim_idempotency_key(
    session: Session, *, key: str, command: str, request_hash: str, created_at: dt.datetime
) -> Any:
    """Claim ``key`` for this transaction; return the earlier record if it was taken.

    On PostgreSQL a concurrent claim of the same key waits for the first transaction to end,
    so the loser sees the winner's stored result instead of applying the command again.
    """
    connection = session.connection()
    claimed = connection.execute(
        CLAIM_KEY[connection.dialect.name],
        {"key": key, "command": command, "request_hash": request_hash, "created_at": created_at},
    ).first()
    if claimed is not None:
        return None
    return connection.execute(FIND_KEY, {"key": key}).one()


def find_idempotency_key(session: Session, *, key: str) -> Any:
    """The record of ``key`` if it was claimed and committed, else ``None``."""
    return session.connection().execute(FIND_KEY, {"key": key}).one_or_none()


def store_idempotent_result(session: Session, *, key: str, result_json: str) -> None:
    session.connection().execute(STORE_RESULT, {"claimed_key": key, "result_json": result_json})


# --- trial balance checks -----------------------------------------------------------------


def unbalanced_entries(session: Session) -> list[tuple[str, int]]:
    rows = session.execute(
        select(JournalEntry.entry_ref, func.sum(JournalLeg.amount_fen))
        .join(JournalLeg, JournalLeg.entry_id == JournalEntry.id)
        .group_by(JournalEntry.id, JournalEntry.entry_ref)
        .having(func.sum(JournalLeg.amount_fen) != 0)
    ).all()
    return [(ref, int(total)) for ref, total in rows]


def entries_with_fewer_than_two_legs(session: Session) -> list[str]:
    leg_count = (
        select(func.count(JournalLeg.id))
        .where(JournalLeg.entry_id == JournalEntry.id)
        .correlate(JournalEntry)
        .scalar_subquery()
    )
    return list(session.scalars(select(JournalEntry.entry_ref).where(leg_count < 2)).all())


def grand_total_fen(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(JournalLeg.amount_fen), 0))) or 0)


def leg_totals_by_account(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(JournalLeg.account_id, func.sum(JournalLeg.amount_fen)).group_by(
            JournalLeg.account_id
        )
    ).all()
    return {account_id: int(total) for account_id, total in rows}


def broken_running_balances(session: Session) -> list[tuple[str, int, int, int | None]]:
    """Legs whose ``balance_after`` is not the previous leg's plus this leg's amount.

    Returns (account code, leg id, expected balance, recorded balance). Lender-wide
    accounts keep no running balance and are not checked here.
    """
    previous = (
        func.lag(JournalLeg.balance_after_fen, 1, 0)
        .over(partition_by=JournalLeg.account_id, order_by=JournalLeg.id)
        .label("previous")
    )
    ordered = (
        select(
            JournalLeg.id,
            JournalLeg.account_id,
            JournalLeg.amount_fen,
            JournalLeg.balance_after_fen,
            previous,
        )
        .join(LedgerAccount, LedgerAccount.id == JournalLeg.account_id)
        .where(LedgerAccount.owner_ref.is_not(None))
        .subquery()
    )
    rows = session.execute(
        select(
            LedgerAccount.code,
            ordered.c.id,
            ordered.c.previous + ordered.c.amount_fen,
            ordered.c.balance_after_fen,
        )
        .join(LedgerAccount, LedgerAccount.id == ordered.c.account_id)
        .where(
            ordered.c.balance_after_fen.is_(None)
            | (ordered.c.previous + ordered.c.amount_fen != ordered.c.balance_after_fen)
        )
        .order_by(ordered.c.id)
        .limit(100)
    ).all()
    return [
        (code, leg_id, int(exp), None if got is None else int(got))
        for code, leg_id, exp, got in rows
    ]


def pending_hold_totals(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Hold.debit_account_id, func.sum(Hold.amount_fen))
        .where(Hold.status == HoldStatus.PENDING)
        .group_by(Hold.debit_account_id)
    ).all()
    return {account_id: int(total) for account_id, total in rows}


def posted_holds_without_entry(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(Hold.hold_ref).where(
                (Hold.status == HoldStatus.POSTED) & Hold.entry_id.is_(None)
            )
        ).all()
    )


def count_entries(session: Session) -> int:
    return int(session.scalar(select(func.count(JournalEntry.id))) or 0)


# --- batched postings ---------------------------------------------------------------------

#: Entries staged for one batched posting: one row per leg, the entry's fields repeated on
#: each. A temporary table (per connection, never logged): the rows live only until
#: :func:`post_staged` moves them into the journal within the same transaction.
STAGED_LEGS_DDL = text(
    "CREATE TEMPORARY TABLE IF NOT EXISTS ledger_staged_legs ("
    "entry_no BIGINT NOT NULL, leg_no INTEGER NOT NULL, entry_ref VARCHAR(48) NOT NULL, "
    "kind VARCHAR(32) NOT NULL, effective_date DATE NOT NULL, "
    "description VARCHAR(200) NOT NULL, account_id BIGINT NOT NULL, "
    "amount_fen BIGINT NOT NULL, PRIMARY KEY (entry_no, leg_no))"
)
STAGED_LEGS = Table(
    "ledger_staged_legs",
    MetaData(),
    Column("entry_no", BigInteger, primary_key=True),
    Column("leg_no", Integer, primary_key=True),
    Column("entry_ref", String(48)),
    Column("kind", String(32)),
    Column("effective_date", Date),
    Column("description", String(200)),
    Column("account_id", BigInteger),
    Column("amount_fen", BigInteger),
    prefixes=["TEMPORARY"],
)
STAGED_COLUMNS = [column.name for column in STAGED_LEGS.columns]

#: Entries that break a rule every entry must keep: Σ legs = 0, two legs or more, no zero leg.
BAD_STAGED_ENTRY = text(
    "SELECT entry_ref, SUM(amount_fen), COUNT(*), MIN(ABS(amount_fen)) FROM ledger_staged_legs "
    "GROUP BY entry_no, entry_ref "
    "HAVING SUM(amount_fen) <> 0 OR COUNT(*) < 2 OR MIN(ABS(amount_fen)) = 0 LIMIT 1"
)


def _staged_limit_breach(dialect: str) -> TextClause:
    """The first entry, per account, that would take it past its debit limit (a debit only)
    or to its abnormal side (strict accounts): the same checks a single posting makes,
    entry by entry, on the balance as it runs through the batch. On PostgreSQL the same
    statement first row-locks the owned accounts the staged legs touch, in id order; SQLite
    serialises writers with ``BEGIN IMMEDIATE`` and joins the accounts by their key (its
    planner would scan a materialized CTE once per row)."""
    locked = (
        "touched AS MATERIALIZED (SELECT id, code, kind, balance_fen, pending_debit_fen,"
        " debit_limit_fen, strict_normal_balance FROM ledger_accounts"
        " WHERE owner_ref IS NOT NULL AND id IN"
        " (SELECT DISTINCT account_id FROM ledger_staged_legs) ORDER BY id FOR UPDATE), "
    )
    accounts = "touched a ON a.id = r.account_id"
    if dialect != "postgresql":
        locked = ""
        accounts = "ledger_accounts a ON a.id = r.account_id AND a.owner_ref IS NOT NULL"
    return text(
        f"WITH {locked}"
        "per_entry AS (SELECT account_id, entry_no, SUM(amount_fen) AS net "
        "FROM ledger_staged_legs GROUP BY account_id, entry_no), "
        "running AS (SELECT account_id, entry_no, net, SUM(net) OVER "
        "(PARTITION BY account_id ORDER BY entry_no) AS moved FROM per_entry) "
        "SELECT a.code, a.balance_fen + r.moved, "
        "CASE WHEN a.debit_limit_fen IS NOT NULL AND r.net > 0 "
        "AND a.balance_fen + a.pending_debit_fen + r.moved > a.debit_limit_fen "
        "THEN 'limit' ELSE 'strict' END "
        f"FROM running r JOIN {accounts} "
        "WHERE (a.debit_limit_fen IS NOT NULL AND r.net > 0 "
        "AND a.balance_fen + a.pending_debit_fen + r.moved > a.debit_limit_fen) "
        "OR (a.strict_normal_balance AND a.kind IN ('asset', 'expense') "
        "AND a.balance_fen + r.moved < 0) "
        "OR (a.strict_normal_balance AND a.kind NOT IN ('asset', 'expense') "
        "AND a.balance_fen + r.moved > 0) "
        "ORDER BY r.entry_no LIMIT 1"
    )


LOCK_AND_CHECK_STAGED = {
    dialect: _staged_limit_breach(dialect) for dialect in ("postgresql", "sqlite")
}
INSERT_STAGED_ENTRIES = text(
    "INSERT INTO journal_entries (entry_ref, kind, effective_date, posted_at, description) "
    "SELECT entry_ref, kind, effective_date, :posted_at, description FROM ledger_staged_legs "
    "GROUP BY entry_no, entry_ref, kind, effective_date, description ORDER BY entry_no"
).bindparams(bindparam("posted_at", type_=DateTime(timezone=True)))
#: Legs in staging order with the running balance of each owned account (lender-wide
#: accounts keep none: NULL).
INSERT_STAGED_LEGS = text(
    "INSERT INTO journal_legs (entry_id, account_id, amount_fen, balance_after_fen) "
    "SELECT e.id, s.account_id, s.amount_fen, "
    "CASE WHEN a.owner_ref IS NOT NULL THEN a.balance_fen + SUM(s.amount_fen) OVER "
    "(PARTITION BY s.account_id ORDER BY s.entry_no, s.leg_no) END "
    "FROM ledger_staged_legs s JOIN journal_entries e ON e.entry_ref = s.entry_ref "
    "JOIN ledger_accounts a ON a.id = s.account_id ORDER BY s.entry_no, s.leg_no"
)
#: PostgreSQL: the entries and their legs in one statement, the legs joined to the entry ids
#: the insert returns (not to the whole, ever-growing journal).
INSERT_STAGED_ENTRIES_AND_LEGS = text(
    "WITH e AS (INSERT INTO journal_entries (entry_ref, kind, effective_date, posted_at,"
    " description) SELECT entry_ref, kind, effective_date, :posted_at, description"
    " FROM ledger_staged_legs GROUP BY entry_no, entry_ref, kind, effective_date, description"
    " ORDER BY entry_no RETURNING id, entry_ref) "
    "INSERT INTO journal_legs (entry_id, account_id, amount_fen, balance_after_fen) "
    "SELECT e.id, s.account_id, s.amount_fen, "
    "CASE WHEN a.owner_ref IS NOT NULL THEN a.balance_fen + SUM(s.amount_fen) OVER "
    "(PARTITION BY s.account_id ORDER BY s.entry_no, s.leg_no) END "
    "FROM ledger_staged_legs s JOIN e ON e.entry_ref = s.entry_ref "
    "JOIN ledger_accounts a ON a.id = s.account_id ORDER BY s.entry_no, s.leg_no"
).bindparams(bindparam("posted_at", type_=DateTime(timezone=True)))
UPDATE_STAGED_BALANCES = text(
    "UPDATE ledger_accounts SET balance_fen = ledger_accounts.balance_fen + moved.net "
    "FROM (SELECT account_id, SUM(amount_fen) AS net FROM ledger_staged_legs "
    "GROUP BY account_id) AS moved "
    "WHERE ledger_accounts.id = moved.account_id AND ledger_accounts.owner_ref IS NOT NULL"
)
CLEAR_STAGED = {
    "postgresql": text("TRUNCATE ledger_staged_legs"),  # no dead rows piling up in a run
    "sqlite": text("DELETE FROM ledger_staged_legs"),
}
COUNT_STAGED_ENTRIES = text("SELECT COUNT(DISTINCT entry_no) FROM ledger_staged_legs")


def prepare_staging(session: Session) -> None:
    """Create this connection's staging table if needed and empty it."""
    connection = session.connection()
    connection.execute(STAGED_LEGS_DDL)
    connection.execute(CLEAR_STAGED[connection.dialect.name])


def stage_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Stage legs given as rows (executemany: SQLAlchemy batches them into multi-row
    INSERTs)."""
    if rows:
        session.connection().execute(insert(STAGED_LEGS), rows)


def stage_sql(session: Session, select_sql: str, params: dict[str, Any]) -> None:
    """Stage the legs a SQL ``SELECT`` computes (its columns in :data:`STAGED_COLUMNS`
    order)."""
    columns = ", ".join(STAGED_COLUMNS)
    statement = text(f"INSERT INTO ledger_staged_legs ({columns}) {select_sql}")
    session.connection().execute(statement, params)


def bad_staged_entry(session: Session) -> tuple[str, int, int, int] | None:
    connection = session.connection()
    if connection.dialect.name == "postgresql":  # row counts for the planner (a temp table)
        connection.execute(text("ANALYZE ledger_staged_legs"))
    row = connection.execute(BAD_STAGED_ENTRY).first()
    return None if row is None else (row[0], int(row[1]), int(row[2]), int(row[3]))


def lock_staged_accounts_and_find_breach(session: Session) -> tuple[str, int, str] | None:
    """Row-lock the owned accounts the staged legs touch, in id order, and return the first
    breach: (account code, balance it would reach, ``limit`` or ``strict``)."""
    connection = session.connection()
    row = connection.execute(LOCK_AND_CHECK_STAGED[connection.dialect.name]).first()
    return None if row is None else (row[0], int(row[1]), row[2])


def move_staged_into_journal(session: Session, *, posted_at: dt.datetime) -> int:
    """Append the staged entries and legs and move the owned accounts' balances; returns how
    many entries were posted. The staging table is left empty."""
    connection = session.connection()
    count = int(connection.execute(COUNT_STAGED_ENTRIES).scalar_one())
    if count and connection.dialect.name == "postgresql":
        connection.execute(INSERT_STAGED_ENTRIES_AND_LEGS, {"posted_at": posted_at})
    elif count:
        connection.execute(INSERT_STAGED_ENTRIES, {"posted_at": posted_at})
        connection.execute(INSERT_STAGED_LEGS)
    if count:
        connection.execute(UPDATE_STAGED_BALANCES)
    connection.execute(CLEAR_STAGED[connection.dialect.name])
    return count


def account_ids_by_code(session: Session, codes: Iterable[str]) -> dict[str, int]:
    rows = session.connection().execute(
        select(ACCOUNTS.c.code, ACCOUNTS.c.id).where(ACCOUNTS.c.code.in_(sorted(set(codes))))
    )
    return {code: int(account_id) for code, account_id in rows}
