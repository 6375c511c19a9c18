"""The set-based close of business in SQL: every query of :mod:`limitwise.servicing.batch_cob`.

Each business day of a partition (an account-id range) is a handful of statements over
per-connection temporary tables: the accounts that close the day, their interest and
penalty accruals, per-account totals, the new days past due and buckets. The arithmetic
mirrors :mod:`limitwise.servicing.book` rule for rule in integers (rates enter as an exact
integer nano-fen factor per fen and day, see ``cob_rates``); the differential tests prove
the two equal. Portable SQL for PostgreSQL and SQLite; only day differences and row locks
differ by dialect.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Date, Table, bindparam, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from limitwise.servicing.models import AccountEvent, CobFailure, CobPartition, CreditAccount

NANO = 1_000_000_000

#: A credit account's two accrual receivables in the ledger, looked up once per partition.
LEDGER_IDS = "interest_ledger_id BIGINT NOT NULL, penalty_ledger_id BIGINT NOT NULL"
TEMP_TABLES = {
    # the partition's accounts the set-based engine closes, as they were before the run
    "cob_accounts": "account_id BIGINT PRIMARY KEY, product_id BIGINT NOT NULL, "
    "opened_on DATE NOT NULL, cob_through DATE, "
    f"bucket VARCHAR(16) NOT NULL, dpd INTEGER NOT NULL, {LEDGER_IDS}",
    "cob_day_accounts": "account_id BIGINT PRIMARY KEY, product_id BIGINT NOT NULL, "
    f"bucket VARCHAR(16) NOT NULL, dpd INTEGER NOT NULL, {LEDGER_IDS}",
    "cob_fallback": "account_id BIGINT PRIMARY KEY",
    "cob_rates": "rate VARCHAR(24) PRIMARY KEY, factor BIGINT NOT NULL",
    "cob_products": "product_id BIGINT PRIMARY KEY, grace_days INTEGER NOT NULL",
    "cob_buckets": "product_id BIGINT NOT NULL, min_dpd INTEGER NOT NULL, max_dpd INTEGER, "
    "name VARCHAR(16) NOT NULL",
    "cob_interest": "draw_id BIGINT PRIMARY KEY, instalment_id BIGINT NOT NULL, "
    "account_id BIGINT NOT NULL, amount_fen BIGINT NOT NULL, remainder_nfen BIGINT NOT NULL",
    "cob_penalty": "instalment_id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL, "
    "amount_fen BIGINT NOT NULL, remainder_nfen BIGINT NOT NULL",
    "cob_totals": "account_id BIGINT PRIMARY KEY, interest_fen BIGINT NOT NULL, "
    f"penalty_fen BIGINT NOT NULL, {LEDGER_IDS}",
    "cob_state": "account_id BIGINT PRIMARY KEY, dpd INTEGER NOT NULL, bucket VARCHAR(16) NOT NULL",
    # DPD and bucket after the last day closed: replaced whole each day (never updated, so a
    # long catch-up leaves no dead row versions to scan) and written back once at the end
    "cob_closed": "account_id BIGINT PRIMARY KEY, dpd INTEGER NOT NULL, "
    "bucket VARCHAR(16) NOT NULL",
}
PER_DAY_TABLES = ("cob_day_accounts", "cob_interest", "cob_penalty", "cob_totals", "cob_state")

#: Whether an instalment of draw ``d`` is settled on the day after ``:d`` (book.is_settled;
#: its period has started, so an instalment type owes at least its scheduled interest).
SETTLED = (
    "(i.principal_due_fen - i.principal_paid_fen + i.interest_accrued_fen - i.interest_paid_fen"
    " + i.penalty_accrued_fen - i.penalty_paid_fen + i.fee_charged_fen - i.fee_paid_fen) = 0"
    " AND i.interest_paid_fen >= CASE WHEN d.repayment_type <> 'daily'"
    " AND i.interest_scheduled_fen > i.interest_accrued_fen"
    " THEN i.interest_scheduled_fen ELSE i.interest_accrued_fen END"
)
DAY_PARAMS = ("d", "next")
#: Accounts ``c`` of the partition with a day up to ``:d`` open and no recorded failure.
BEHIND_IN_RANGE = (
    "c.id >= :lo AND c.id < :hi AND c.opened_on <= :d"
    " AND (c.cob_through IS NULL OR c.cob_through < :d)"
    " AND NOT EXISTS (SELECT 1 FROM cob_failures f WHERE f.credit_account_id = c.id)"
)
#: Draws ``d`` of the partition's accounts: a range the planner can bound by the draws'
#: account index, so no statement of a partition scans the draws of the whole book.
DRAWS_IN_RANGE = "d.credit_account_id >= :lo AND d.credit_account_id < :hi"


def ledger_account(owner: str, purpose: str, column: str = "id") -> str:
    """A column of one of a credit account's ledger accounts (an index probe on owner)."""
    return (
        f"(SELECT l.{column} FROM ledger_accounts l"
        f" WHERE l.owner_ref = {owner} AND l.purpose = '{purpose}')"
    )


def _days(dialect: str, later: str, earlier: str) -> str:
    """Whole days from ``earlier`` to ``later`` (SQL date expressions)."""
    if dialect == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _dated(sql: str) -> TextClause:
    statement = text(sql)
    names = [name for name in DAY_PARAMS if f":{name}" in sql]
    return statement.bindparams(*(bindparam(name, type_=Date) for name in names))


@functools.lru_cache(maxsize=2)
def _statements(dialect: str) -> dict[str, TextClause]:
    days = functools.partial(_days, dialect)
    lock = " FOR UPDATE" if dialect == "postgresql" else ""
    interest_target = (
        f"i.interest_scheduled_fen * ({days(':d', 'i.period_start')} + 1)"
        f" / {days('i.due_date', 'i.period_start')}"
    )
    daily_carried = "(d.principal_outstanding_fen * r.factor + d.accrual_remainder_nfen)"
    penalty_carried = (
        "((i.principal_due_fen - i.principal_paid_fen) * r.factor + i.penalty_remainder_nfen)"
    )
    dpd = days(":next", "o.oldest")
    sql = {
        "lock_behind": "SELECT c.id FROM credit_accounts c WHERE c.id >= :lo AND c.id < :hi"
        " AND c.opened_on <= :d AND (c.cob_through IS NULL OR c.cob_through < :d)"
        f" ORDER BY c.id{lock}",
        "rates": "SELECT DISTINCT d.daily_rate_bps, d.penalty_rate_bps FROM draws d"
        f" WHERE {DRAWS_IN_RANGE} AND d.status = 'open'",
        "fallback_draws": "INSERT INTO cob_fallback (account_id)"
        " SELECT DISTINCT c.id FROM credit_accounts c JOIN draws d ON d.credit_account_id = c.id"
        f" WHERE {BEHIND_IN_RANGE} AND d.status = 'open' AND (d.principal_outstanding_fen = 0"
        " OR NOT EXISTS (SELECT 1 FROM cob_rates r WHERE r.rate = d.daily_rate_bps)"
        " OR NOT EXISTS (SELECT 1 FROM cob_rates r WHERE r.rate = d.penalty_rate_bps))",
        # scalar subqueries: an index probe per account whatever the planner guesses
        "fallback_credit": "INSERT INTO cob_fallback (account_id) SELECT c.id"
        f" FROM credit_accounts c WHERE {BEHIND_IN_RANGE}"
        f" AND {ledger_account('c.ref', 'credit_balance', 'balance_fen')} <> 0"
        " AND NOT EXISTS (SELECT 1 FROM cob_fallback x WHERE x.account_id = c.id)",
        "fallback_refs": "SELECT c.ref FROM credit_accounts c"
        " JOIN cob_fallback f ON f.account_id = c.id ORDER BY c.id",
        "load_accounts": "INSERT INTO cob_accounts (account_id, product_id, opened_on,"
        " cob_through, bucket, dpd, interest_ledger_id, penalty_ledger_id)"
        " SELECT c.id, c.product_id, c.opened_on, c.cob_through, c.bucket,"
        f" c.days_past_due, {ledger_account('c.ref', 'interest')},"
        f" {ledger_account('c.ref', 'penalty')} FROM credit_accounts c WHERE {BEHIND_IN_RANGE}"
        " AND c.id NOT IN (SELECT account_id FROM cob_fallback)",
        # an account closes every day from its first open one: it has one today if that is
        # not after today; its state is yesterday's close, or as loaded on its first day
        "day_accounts": "INSERT INTO cob_day_accounts (account_id, product_id, bucket, dpd,"
        " interest_ledger_id, penalty_ledger_id) SELECT c.account_id, c.product_id,"
        " COALESCE(x.bucket, c.bucket), COALESCE(x.dpd, c.dpd), c.interest_ledger_id,"
        " c.penalty_ledger_id FROM cob_accounts c"
        " LEFT JOIN cob_closed x ON x.account_id = c.account_id"
        " WHERE c.cob_through < :d OR (c.cob_through IS NULL AND c.opened_on <= :d)",
        "interest": "INSERT INTO cob_interest"
        " (draw_id, instalment_id, account_id, amount_fen, remainder_nfen)"
        " SELECT d.id, i.id, d.credit_account_id,"
        f" CASE WHEN d.repayment_type = 'daily' THEN {daily_carried} / {NANO}"
        f" WHEN {interest_target} > i.interest_accrued_fen"
        f" THEN {interest_target} - i.interest_accrued_fen ELSE 0 END,"
        f" CASE WHEN d.repayment_type = 'daily' THEN {daily_carried} % {NANO}"
        " ELSE d.accrual_remainder_nfen END"
        " FROM cob_day_accounts a JOIN draws d ON d.credit_account_id = a.account_id"
        " JOIN instalments i ON i.draw_id = d.id AND i.period_start <= :d AND i.due_date > :d"
        " JOIN cob_rates r ON r.rate = d.daily_rate_bps"
        f" WHERE {DRAWS_IN_RANGE} AND d.status = 'open' AND d.drawn_on <= :d",
        "penalty": "INSERT INTO cob_penalty (instalment_id, account_id, amount_fen, remainder_nfen)"
        f" SELECT i.id, d.credit_account_id, {penalty_carried} / {NANO},"
        f" {penalty_carried} % {NANO}"
        " FROM cob_day_accounts a JOIN cob_products p ON p.product_id = a.product_id"
        " JOIN draws d ON d.credit_account_id = a.account_id"
        " JOIN instalments i ON i.draw_id = d.id"
        " JOIN cob_rates r ON r.rate = d.penalty_rate_bps"
        f" WHERE {DRAWS_IN_RANGE} AND d.status = 'open'"
        " AND i.principal_due_fen > i.principal_paid_fen"
        f" AND i.due_date < :d AND {days(':d', 'i.due_date')} > p.grace_days",
        "apply_interest": "UPDATE instalments"
        " SET interest_accrued_fen = instalments.interest_accrued_fen + c.amount_fen"
        " FROM cob_interest c WHERE instalments.id = c.instalment_id AND c.amount_fen > 0",
        "apply_remainders": "UPDATE draws SET accrual_remainder_nfen = c.remainder_nfen"
        " FROM cob_interest c"
        " WHERE draws.id = c.draw_id AND draws.accrual_remainder_nfen <> c.remainder_nfen",
        "apply_penalty": "UPDATE instalments"
        " SET penalty_accrued_fen = instalments.penalty_accrued_fen + c.amount_fen,"
        " penalty_remainder_nfen = c.remainder_nfen"
        " FROM cob_penalty c WHERE instalments.id = c.instalment_id",
        "totals": "INSERT INTO cob_totals (account_id, interest_fen, penalty_fen,"
        " interest_ledger_id, penalty_ledger_id)"
        " SELECT a.account_id, COALESCE(ci.total, 0), COALESCE(cp.total, 0),"
        " a.interest_ledger_id, a.penalty_ledger_id"
        " FROM cob_day_accounts a"
        " LEFT JOIN (SELECT account_id, SUM(amount_fen) AS total FROM cob_interest"
        " GROUP BY account_id) ci ON ci.account_id = a.account_id"
        " LEFT JOIN (SELECT account_id, SUM(amount_fen) AS total FROM cob_penalty"
        " GROUP BY account_id) cp ON cp.account_id = a.account_id"
        " WHERE COALESCE(ci.total, 0) > 0 OR COALESCE(cp.total, 0) > 0",
        "state": "INSERT INTO cob_state (account_id, dpd, bucket)"
        " SELECT x.account_id, x.dpd, b.name FROM ("
        f" SELECT a.account_id, a.product_id, CASE WHEN o.oldest IS NULL THEN 0"
        f" WHEN {dpd} > p.grace_days THEN {dpd} ELSE 0 END AS dpd"
        " FROM cob_day_accounts a JOIN cob_products p ON p.product_id = a.product_id"
        " LEFT JOIN (SELECT d.credit_account_id AS account_id, MIN(i.due_date) AS oldest"
        " FROM cob_day_accounts a2 JOIN draws d ON d.credit_account_id = a2.account_id"
        " JOIN instalments i ON i.draw_id = d.id"
        f" WHERE {DRAWS_IN_RANGE} AND d.status = 'open' AND i.due_date <= :d"
        f" AND NOT ({SETTLED})"
        " GROUP BY d.credit_account_id) o ON o.account_id = a.account_id) x"
        " JOIN cob_buckets b ON b.product_id = x.product_id AND x.dpd >= b.min_dpd"
        " AND (b.max_dpd IS NULL OR x.dpd <= b.max_dpd)",
        "moves": "SELECT s.account_id, a.bucket, s.bucket, s.dpd FROM cob_state s"
        " JOIN cob_day_accounts a ON a.account_id = s.account_id"
        " WHERE s.bucket <> a.bucket ORDER BY s.account_id",
        "day_tally": "SELECT (SELECT COUNT(*) FROM cob_day_accounts),"
        " (SELECT COALESCE(SUM(interest_fen), 0) FROM cob_totals),"
        " (SELECT COALESCE(SUM(penalty_fen), 0) FROM cob_totals),"
        " (SELECT COUNT(*) FROM cob_state s JOIN cob_day_accounts a"
        " ON a.account_id = s.account_id WHERE a.dpd = 0 AND s.dpd > 0)",
        "close_day": "INSERT INTO cob_closed (account_id, dpd, bucket)"
        " SELECT account_id, dpd, bucket FROM cob_state",
        "write_back": "UPDATE credit_accounts SET days_past_due = x.dpd, bucket = x.bucket,"
        " cob_through = :d FROM cob_closed x WHERE credit_accounts.id = x.account_id"
        " AND credit_accounts.id >= :lo AND credit_accounts.id < :hi",
    }
    return {name: _dated(statement) for name, statement in sql.items()}


#: One summary entry per partition and day: each income account credited with the day's
#: total (legs 0 and 1), each accruing account's interest and penalty receivable debited
#: with its own accrual, in account order (legs 2 id + 2 and 2 id + 3). ``:day_no`` numbers
#: the entries of a partition's days in order, the order the running balances run in.
LEGS_HEAD = ":day_no, {leg_no}, :entry_ref, 'accrual', :d, :description"


def _legs_sql() -> str:
    """The partition's accrual entry of the day as ledger legs (``ledger.batch`` staging
    columns): the entry ``service._close_day`` posts for one account, for every account of
    the partition at once."""
    income = (
        f"SELECT {LEGS_HEAD.format(leg_no=0)}, :interest_income, -s.interest_fen"
        " FROM (SELECT SUM(interest_fen) AS interest_fen FROM cob_totals) s"
        " WHERE s.interest_fen > 0"
        f" UNION ALL SELECT {LEGS_HEAD.format(leg_no=1)}, :penalty_income, -s.penalty_fen"
        " FROM (SELECT SUM(penalty_fen) AS penalty_fen FROM cob_totals) s"
        " WHERE s.penalty_fen > 0"
    )
    receivables = (
        f" UNION ALL SELECT {LEGS_HEAD.format(leg_no='2 * t.account_id + 2')},"
        " t.interest_ledger_id, t.interest_fen FROM cob_totals t WHERE t.interest_fen > 0"
        f" UNION ALL SELECT {LEGS_HEAD.format(leg_no='2 * t.account_id + 3')},"
        " t.penalty_ledger_id, t.penalty_fen FROM cob_totals t WHERE t.penalty_fen > 0"
    )
    return income + receivables


LEGS_SQL = _legs_sql()


def _run(session: Session, name: str, **params: Any) -> Any:
    connection = session.connection()
    return connection.execute(_statements(connection.dialect.name)[name], params)


def _clear(session: Session, table: str) -> None:
    """Empty a temporary table; TRUNCATE on PostgreSQL, so a catch-up of many days does
    not scan the dead rows of every day before."""
    connection = session.connection()
    verb = "TRUNCATE" if connection.dialect.name == "postgresql" else "DELETE FROM"
    connection.execute(text(f"{verb} {table}"))


def prepare(session: Session) -> None:
    """Create the temporary tables on this connection if needed, and empty them. On
    PostgreSQL, switch JIT compilation off for the transaction: these statements are short
    and the planner's row estimates would have it compile each for longer than it runs."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL jit = off"))
        connection.execute(text("SET LOCAL random_page_cost = 1.1"))
    for name, columns in TEMP_TABLES.items():
        connection.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns})"))
        _clear(session, name)


def _analyze(session: Session, *tables: str) -> None:
    """Give PostgreSQL's planner the row counts of freshly filled temporary tables."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        for table in tables:
            connection.execute(text(f"ANALYZE {table}"))


def lock_behind(session: Session, *, lo: int, hi: int, through: dt.date) -> list[int]:
    """Row-lock the partition's accounts with a day up to ``through`` still open."""
    return [int(row[0]) for row in _run(session, "lock_behind", lo=lo, hi=hi, d=through)]


def first_open_day(session: Session, *, lo: int, hi: int, through: dt.date) -> dt.date | None:
    """The earliest day an account of the partition still has to close."""
    account = CreditAccount
    behind = (
        (account.id >= lo)
        & (account.id < hi)
        & (account.opened_on <= through)
        & or_(account.cob_through.is_(None), account.cob_through < through)
    )
    last_closed, never_closed_opened = session.execute(
        select(
            func.min(account.cob_through),
            func.min(account.opened_on).filter(account.cob_through.is_(None)),
        ).where(behind)
    ).one()
    candidates = [] if never_closed_opened is None else [never_closed_opened]
    if last_closed is not None:
        candidates.append(last_closed + dt.timedelta(days=1))
    return min(candidates, default=None)


def count_closed(session: Session, *, lo: int, hi: int, through: dt.date) -> int:
    """How many accounts of the partition are closed through ``through``."""
    account = CreditAccount
    return int(
        session.scalar(
            select(func.count(account.id)).where(
                (account.id >= lo) & (account.id < hi) & (account.cob_through == through)
            )
        )
        or 0
    )


def open_draw_rates(session: Session, *, lo: int, hi: int) -> set[str]:
    return {
        rate for row in _run(session, "rates", lo=lo, hi=hi) for rate in row if rate is not None
    }


def load_rates(session: Session, factors: dict[str, int]) -> None:
    if factors:
        session.connection().execute(
            text("INSERT INTO cob_rates (rate, factor) VALUES (:rate, :factor)"),
            [{"rate": rate, "factor": factor} for rate, factor in factors.items()],
        )


def load_products(
    session: Session,
    grace_days: dict[int, int],
    buckets: Sequence[tuple[int, int, int | None, str]],
) -> None:
    connection = session.connection()
    connection.execute(
        text("INSERT INTO cob_products (product_id, grace_days) VALUES (:product_id, :grace)"),
        [{"product_id": pid, "grace": grace} for pid, grace in grace_days.items()],
    )
    connection.execute(
        text(
            "INSERT INTO cob_buckets (product_id, min_dpd, max_dpd, name)"
            " VALUES (:product_id, :min_dpd, :max_dpd, :name)"
        ),
        [
            {"product_id": pid, "min_dpd": lo, "max_dpd": hi, "name": name}
            for pid, lo, hi, name in buckets
        ],
    )


def product_ids(session: Session, *, lo: int, hi: int) -> list[int]:
    account = CreditAccount
    return list(
        session.scalars(
            select(account.product_id).distinct().where((account.id >= lo) & (account.id < hi))
        )
    )


def mark_fallback(session: Session, *, lo: int, hi: int, through: dt.date) -> list[str]:
    """The accounts the per-account engine closes (see ``batch_cob``), in id order."""
    _run(session, "fallback_draws", lo=lo, hi=hi, d=through)
    _run(session, "fallback_credit", lo=lo, hi=hi, d=through)
    return [row[0] for row in _run(session, "fallback_refs")]


def start_day(session: Session, *, day: dt.date) -> int:
    """Empty the per-day tables and select the accounts closing ``day``; returns how many."""
    for table in PER_DAY_TABLES:
        _clear(session, table)
    count = _run(session, "day_accounts", d=day).rowcount
    _analyze(session, "cob_day_accounts")
    return int(count)


def accrue(session: Session, *, lo: int, hi: int, day: dt.date) -> None:
    """Compute the day's interest and penalty accruals, apply them to the instalments and
    draws, and total them per account."""
    _run(session, "interest", lo=lo, hi=hi, d=day)
    _run(session, "penalty", lo=lo, hi=hi, d=day)
    _analyze(session, "cob_interest", "cob_penalty")
    _run(session, "apply_interest")
    _run(session, "apply_remainders")
    _run(session, "apply_penalty")
    _run(session, "totals")
    _analyze(session, "cob_totals")


#: Every summary entry's ref starts so, and no other entry's does (a replay finds the
#: account's shares by it; the per-account accrual entries the set-based engine posted
#: before summary entries, ``cob:YYYYMMDD:ACCOUNT:N``, are reversed whole through their
#: ``servicing_postings`` rows and must not be taken for shares as well).
SUMMARY_REF_PREFIX = "cob:partition:"


def summary_entry_ref(day: dt.date, *, lo: int) -> str:
    """The ref of a partition's accrual entry of ``day``: unique in the journal, so a
    partition-day posted once can never be posted again."""
    return f"{SUMMARY_REF_PREFIX}{lo}:{day:%Y%m%d}"


def legs_params(
    day: dt.date, *, day_no: int, lo: int, hi: int, interest_income: int, penalty_income: int
) -> dict[str, Any]:
    """``day_no``: the day's place among the days the partition closes (0, 1, …)."""
    return {
        "d": day,
        "day_no": day_no,
        "entry_ref": summary_entry_ref(day, lo=lo),
        "description": f"close of business, accounts {lo} to {hi - 1}",
        "interest_income": interest_income,
        "penalty_income": penalty_income,
    }


def delinquency(
    session: Session, *, lo: int, hi: int, day: dt.date
) -> list[tuple[int, str, str, int]]:
    """Compute each account's days past due and bucket as of the next day; returns the
    bucket moves (account id, from, to, days past due)."""
    _run(session, "state", lo=lo, hi=hi, d=day, next=day + dt.timedelta(days=1))
    _analyze(session, "cob_state")
    return [(int(a), f, t, int(dpd)) for a, f, t, dpd in _run(session, "moves")]


def day_tally(session: Session) -> tuple[int, int, int, int]:
    """(accounts, interest fen, penalty fen, accounts newly past due) of the day."""
    accounts, interest, penalty, new_overdue = _run(session, "day_tally").one()
    return int(accounts), int(interest), int(penalty), int(new_overdue)


def load_accounts(session: Session, *, lo: int, hi: int, through: dt.date) -> None:
    """The partition's accounts behind ``through`` that the set-based engine closes (not
    handed to the per-account engine, no recorded failure), with their ledger ids."""
    _run(session, "load_accounts", lo=lo, hi=hi, d=through)
    _analyze(session, "cob_accounts")


def close_day(session: Session) -> None:
    """The day's accounts are closed: their DPD and bucket replace the last day's."""
    _clear(session, "cob_closed")
    _run(session, "close_day")


def write_back_accounts(session: Session, *, lo: int, hi: int, through: dt.date) -> None:
    """Each account is closed through ``through`` (every account the partition's set-based
    days started closes each day to the last), with its last days past due and bucket:
    once per partition."""
    _run(session, "write_back", lo=lo, hi=hi, d=through)


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(AccountEvent), rows)


# --- partitions ----------------------------------------------------------------------------


def account_id_span(session: Session, *, through: dt.date) -> tuple[int, int] | None:
    """Lowest and highest id of the accounts with a day up to ``through`` still open."""
    account = CreditAccount
    lo, hi = session.execute(
        select(func.min(account.id), func.max(account.id))
        .where(account.opened_on <= through)
        .where(or_(account.cob_through.is_(None), account.cob_through < through))
    ).one()
    return None if lo is None else (int(lo), int(hi))


def add_partitions(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the partitions not planned yet (a rerun, or a second worker planning at the
    same time, plans the same ranges again)."""
    table = cast(Table, CobPartition.__table__)
    dialect_insert = (
        pg_insert if session.connection().dialect.name == "postgresql" else sqlite_insert
    )
    if rows:
        session.execute(dialect_insert(table).on_conflict_do_nothing(), rows)


def claim_partition(session: Session, *, business_date: dt.date) -> CobPartition | None:
    """The next undone partition no other worker holds: ``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already gives this transaction the whole
    database."""
    return session.scalars(
        select(CobPartition)
        .where(CobPartition.business_date == business_date)
        .where(CobPartition.done.is_(False))
        .order_by(CobPartition.lo_id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).one_or_none()


def partitions_left(session: Session, *, business_date: dt.date) -> int:
    return int(
        session.scalar(
            select(func.count(CobPartition.id))
            .where(CobPartition.business_date == business_date)
            .where(CobPartition.done.is_(False))
        )
        or 0
    )


def partition_count(session: Session, *, business_date: dt.date) -> int:
    return int(
        session.scalar(
            select(func.count(CobPartition.id)).where(CobPartition.business_date == business_date)
        )
        or 0
    )


def finish_partition(
    session: Session, partition_id: int, *, accounts_closed: int, finished_at: dt.datetime
) -> None:
    session.execute(
        update(CobPartition)
        .where(CobPartition.id == partition_id)
        .values(done=True, accounts_closed=accounts_closed, finished_at=finished_at)
    )


def refs_behind(session: Session, *, lo: int, hi: int, through: dt.date) -> list[str]:
    account = CreditAccount
    failed = select(CobFailure.credit_account_id)
    return list(
        session.scalars(
            select(account.ref)
            .where((account.id >= lo) & (account.id < hi) & (account.opened_on <= through))
            .where(or_(account.cob_through.is_(None), account.cob_through < through))
            .where(account.id.not_in(failed))
            .order_by(account.id)
        )
    )
