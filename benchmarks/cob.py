"""Set-based close of business at book scale, on PostgreSQL and SQLite.

For each book size and backend: a book is bulk-loaded (COPY on PostgreSQL, one
executemany transaction on SQLite) with a realistic mix — 70% of accounts with a balance,
every repayment type, 5% overdue (an instalment ten days past due, accruing penalty) —
each account closed through the day before. Then, in the same run on the same database:

- the floor: one hand-written ``INSERT … SELECT`` of the day's accrual rows (one row per
  accruing draw into a keyed table): the database's own speed at this work;
- the journal floor: the rows close of business must write for those accruals (a leg per
  accruing account, a summary entry and its income leg per 10,000 accounts), as
  hand-written ``INSERT … SELECT``s into the real tables, then rolled back;
- close of business for one business day with the set-based engine, in accounts/s;
- a catch-up of 30 days after it, in account-days/s (on the books up to
  ``--catch-up-max`` accounts, default 10,000: a day at a time, 30 days of a large book
  would take 30 times as long).

The loaded book is state without history (no disbursement entries), so ``ledger check``
is not run on it; the COB work per account is the same.

    PYTHONPATH=src python benchmarks/cob.py [--accounts 100000 1000000]
        [--backends postgresql sqlite] [--admin-url URL] [--partition-size 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session

from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.ledger import service as ledger
from limitwise.ledger.chart import CREDIT_ACCOUNT_KINDS, LenderPurpose, credit_code, lender_code
from limitwise.servicing import flows, service
from limitwise.servicing.schedule import RepaymentType, plan_schedule
from limitwise.servicing.schemas import ProductSpec

DAY = dt.date(2026, 6, 15)  # the business day closed
RATE = "4.0"
TYPES = [t.value for t in RepaymentType]
AMOUNTS = [300_000, 800_000, 1_500_000, 2_400_000, 5_000_000]
PRODUCT = ProductSpec.parse(
    {"name": "bench", "daily_rate_bps": RATE, "repayment_types": TYPES, "terms_months": [3]}
)
NOW = dt.datetime(2026, 6, 15, 20, 0, tzinfo=dt.UTC)

ACCOUNT_COLUMNS = [
    "id", "ref", "product_id", "line_fen", "status", "opened_on", "cob_through",
    "days_past_due", "bucket", "next_seq", "created_at",
]  # fmt: skip
LEDGER_COLUMNS = [
    "id", "code", "kind", "purpose", "owner_ref", "balance_fen", "pending_debit_fen",
    "debit_limit_fen", "strict_normal_balance", "created_at",
]  # fmt: skip
DRAW_COLUMNS = [
    "id", "ref", "idempotency_key", "credit_account_id", "seq", "amount_fen", "repayment_type",
    "term_months", "drawn_on", "daily_rate_bps", "penalty_rate_bps", "early_repayment_fee_bps",
    "apr", "principal_outstanding_fen", "accrual_remainder_nfen", "status",
    "disbursement_entry_ref",
]  # fmt: skip
INSTALMENT_COLUMNS = [
    "id", "draw_id", "seq", "period_start", "due_date", "principal_due_fen",
    "interest_scheduled_fen", "interest_accrued_fen", "penalty_accrued_fen",
    "penalty_remainder_nfen", "fee_charged_fen", "principal_paid_fen", "interest_paid_fen",
    "penalty_paid_fen", "fee_paid_fen",
]  # fmt: skip


def _plan(kind: str, amount: int, drawn_on: dt.date) -> list[tuple[Any, ...]]:
    """(seq, start, due, principal, interest, accrued by the day before) per instalment."""
    plan = plan_schedule(
        amount_fen=amount,
        repayment_type=RepaymentType(kind),
        term_months=3,
        drawn_on=drawn_on,
        daily_rate_bps=Decimal(RATE),
    )
    rows = []
    for item in plan:
        accrued = 0
        if item.due_date < DAY:
            accrued = item.interest_fen
        elif item.period_start < DAY and kind != "daily":
            days = (item.due_date - item.period_start).days
            accrued = item.interest_fen * (DAY - item.period_start).days // days
        rows.append(
            (item.seq, item.period_start, item.due_date, item.principal_fen, item.interest_fen,
             accrued)
        )  # fmt: skip
    return rows


def book_rows(
    accounts: int, product_id: int, ledger_base: int
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(table, row) for the whole book, generated in account order."""
    plans: dict[tuple[str, int, dt.date], list[tuple[Any, ...]]] = {}
    draw_id = instalment_id = 0
    for n in range(accounts):
        account_id, ref = n + 1, f"B{n:07d}"
        drawn = n % 10 < 7
        overdue = n % 20 == 0
        drawn_on = DAY - dt.timedelta(days=40 if overdue else n % 28 + 1)
        dpd = 0
        if overdue:
            dpd = (DAY - plan_schedule(
                amount_fen=AMOUNTS[0], repayment_type=RepaymentType.DAILY, term_months=3,
                drawn_on=drawn_on, daily_rate_bps=Decimal(RATE),
            )[0].due_date).days  # fmt: skip
        yield "credit_accounts", (
            account_id, ref, product_id, 5_000_000, "active", drawn_on - dt.timedelta(days=1),
            DAY - dt.timedelta(days=1), dpd, PRODUCT.bucket_for(dpd), 2, NOW,
        )  # fmt: skip
        for k, (purpose, kind) in enumerate(CREDIT_ACCOUNT_KINDS.items()):
            limit = 5_000_000 if purpose.value == "principal" else None
            yield "ledger_accounts", (
                ledger_base + 5 * n + k, credit_code(ref, purpose), kind.value, purpose.value,
                ref, 0, 0, limit, True, NOW,
            )  # fmt: skip
        if not drawn:
            continue
        kind, amount = TYPES[n % 4], AMOUNTS[n // 4 % len(AMOUNTS)]
        draw_id += 1
        yield "draws", (
            draw_id, f"draw_b{draw_id}", f"bench-{draw_id}", account_id, 1, amount, kind, 3,
            drawn_on, RATE, "6.00", "0", "0.15", amount, 0, "open", f"je_b{draw_id}",
        )  # fmt: skip
        plan = plans.setdefault((kind, amount, drawn_on), _plan(kind, amount, drawn_on))
        for seq, start, due, principal, interest, accrued in plan:
            instalment_id += 1
            yield "instalments", (
                instalment_id, draw_id, seq, start, due, principal, interest, accrued, 0, 0, 0,
                0, 0, 0, 0,
            )  # fmt: skip


COLUMNS = {
    "credit_accounts": ACCOUNT_COLUMNS,
    "ledger_accounts": LEDGER_COLUMNS,
    "draws": DRAW_COLUMNS,
    "instalments": INSTALMENT_COLUMNS,
}


def prepare(engine: Engine) -> tuple[int, int]:
    """The product and the lender-wide accounts, through the services."""
    clock = Clock.fixed(DAY)
    with unit_of_work(engine) as session:
        service.define_product(session, clock, spec=PRODUCT)
        ledger.ensure_lender_accounts(session, clock)
    with engine.connect() as conn:
        product_id = conn.execute(text("SELECT id FROM servicing_products")).scalar_one()
        ledger_max = conn.execute(text("SELECT MAX(id) FROM ledger_accounts")).scalar_one()
    return int(product_id), int(ledger_max) + 1


def load_postgres(engine: Engine, accounts: int) -> None:
    product_id, ledger_base = prepare(engine)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # one COPY at a time per connection: buffer the rows per table, then copy each
        buffers: dict[str, list[tuple[Any, ...]]] = {table: [] for table in COLUMNS}
        for table, row in book_rows(accounts, product_id, ledger_base):
            buffers[table].append(row)
        for table, rows in buffers.items():
            statement = f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN"
            with cursor.copy(statement) as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
            rows.clear()
        for table in COLUMNS:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT MAX(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def load_sqlite(engine: Engine, accounts: int) -> None:
    product_id, ledger_base = prepare(engine)
    buffers: dict[str, list[tuple[Any, ...]]] = {table: [] for table in COLUMNS}
    for table, row in book_rows(accounts, product_id, ledger_base):
        buffers[table].append(row)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")
        for table, rows in buffers.items():
            marks = ", ".join("?" for _ in COLUMNS[table])
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(COLUMNS[table])}) VALUES ({marks})",
                [tuple(_sqlite(v) for v in row) for row in rows],
            )
        cursor.execute("COMMIT")
        cursor.execute("ANALYZE")
    finally:
        raw.close()


def _sqlite(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def floor(engine: Engine) -> int:
    """One ``INSERT … SELECT`` of the day's accrual rows; returns the rows written."""
    days = {
        "postgresql": ("(:d - i.period_start)", "(i.due_date - i.period_start)"),
        "sqlite": (
            "CAST(julianday(:d) - julianday(i.period_start) AS INTEGER)",
            "CAST(julianday(i.due_date) - julianday(i.period_start) AS INTEGER)",
        ),
    }[engine.dialect.name]
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE bench_floor (account_id BIGINT NOT NULL, day DATE NOT NULL,"
                " amount_fen BIGINT NOT NULL, PRIMARY KEY (account_id, day))"
            )
        )
    statement = text(
        "INSERT INTO bench_floor (account_id, day, amount_fen)"
        " SELECT d.credit_account_id, :d, CASE WHEN d.repayment_type = 'daily'"
        " THEN (d.principal_outstanding_fen * 400000 + d.accrual_remainder_nfen) / 1000000000"
        f" ELSE i.interest_scheduled_fen * ({days[0]} + 1) / {days[1]}"
        " - i.interest_accrued_fen END"
        " FROM draws d JOIN instalments i ON i.draw_id = d.id"
        " AND i.period_start <= :d AND i.due_date > :d WHERE d.status = 'open'"
    )
    with engine.begin() as conn:
        day = DAY if engine.dialect.name == "postgresql" else DAY.isoformat()
        return int(conn.execute(statement, {"d": day}).rowcount)


#: Accounts per summary entry in the journal floor (the default partition size).
FLOOR_PARTITION = 10_000
FLOOR_REF = f"'floor:' || CAST(f.account_id / {FLOOR_PARTITION} AS VARCHAR(20))"
JOURNAL_FLOOR = [
    "INSERT INTO journal_entries (entry_ref, kind, effective_date, posted_at, description)"
    f" SELECT {FLOOR_REF}, 'accrual', MIN(f.day), :now, 'floor' FROM bench_floor f"
    f" WHERE f.amount_fen > 0 GROUP BY f.account_id / {FLOOR_PARTITION} ORDER BY 1",
    "INSERT INTO journal_legs (entry_id, account_id, amount_fen, balance_after_fen)"
    " SELECT e.id, l.id, f.amount_fen, l.balance_fen + f.amount_fen FROM bench_floor f"
    f" JOIN journal_entries e ON e.entry_ref = {FLOOR_REF}"
    " JOIN credit_accounts c ON c.id = f.account_id"
    " JOIN ledger_accounts l ON l.owner_ref = c.ref AND l.purpose = 'interest'"
    " WHERE f.amount_fen > 0"
    " UNION ALL SELECT e.id, :income, -SUM(f.amount_fen), NULL FROM bench_floor f"
    f" JOIN journal_entries e ON e.entry_ref = {FLOOR_REF}"
    " WHERE f.amount_fen > 0 GROUP BY e.id",
]


def journal_floor(engine: Engine) -> int:
    """The rows close of business must write for the day's accruals — a leg per accruing
    account on its interest receivable, with its running balance, and per 10,000 accounts
    (a partition) one summary entry and its income leg — as hand-written
    ``INSERT … SELECT``s from the floor's accrual rows, the balance trigger fired
    (PostgreSQL), then rolled back; returns the rows written."""
    sqlite = engine.dialect.name == "sqlite"
    params = {"now": NOW.isoformat(" ") if sqlite else NOW}
    written = 0
    with engine.connect() as conn:
        income = conn.execute(
            text("SELECT id FROM ledger_accounts WHERE code = :code"),
            {"code": lender_code(LenderPurpose.INTEREST_INCOME)},
        ).scalar_one()
        for statement in JOURNAL_FLOOR:
            written += conn.execute(text(statement), params | {"income": income}).rowcount
        if not sqlite:
            conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        conn.rollback()
    return written


@contextmanager
def database(backend: str, admin_url: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'cob_{uuid.uuid4().hex[:6]}.db'}"
        return
    name = f"lw_bench_cob_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


class StatementTimer:
    """Wall time per SQL statement (keyed by its first words) and per commit, while
    attached to an engine: where a close of business spends its time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._started = 0.0

    def __enter__(self) -> StatementTimer:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        event.listen(self.engine, "commit", self._before_commit)
        event.listen(Session, "after_commit", self._after_commit)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        event.remove(self.engine, "commit", self._before_commit)
        event.remove(Session, "after_commit", self._after_commit)

    def _add(self, key: str, seconds: float) -> None:
        self.seconds[key] = self.seconds.get(key, 0.0) + seconds
        self.calls[key] = self.calls.get(key, 0) + 1

    def _before(self, *_: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self._add(
            " ".join(re.sub(r"\s+", " ", statement).split()[:9]),
            time.perf_counter() - self._started,
        )

    def _before_commit(self, *_: Any) -> None:
        self._started = time.perf_counter()

    def _after_commit(self, *_: Any) -> None:
        self._add("COMMIT (deferred triggers)", time.perf_counter() - self._started)

    def print(self, total_s: float, top: int = 25) -> None:
        table = Table(title=f"Where one business day went ({total_s:.1f} s in all)")
        for column in ("statement", "calls", "s", "share"):
            table.add_column(column, justify="left" if column == "statement" else "right")
        ranked = sorted(self.seconds.items(), key=lambda item: -item[1])
        for key, seconds in ranked[:top]:
            table.add_row(key, f"{self.calls[key]:,}", f"{seconds:.2f}", f"{seconds / total_s:.0%}")
        rest = sum(seconds for _, seconds in ranked)
        table.add_row("(Python and driver outside statements)", "", f"{total_s - rest:.2f}", "")
        Console(width=200).print(table)


def timed(work: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def measure(
    backend: str,
    accounts: int,
    admin_url: str,
    folder: Path,
    partition_size: int,
    catch_up: int,
    profile: bool = False,
) -> dict[str, Any]:
    """Load, floor, one day, and (when ``catch_up``) that many days more; with ``profile``,
    print where the day's time went, statement by statement."""
    with database(backend, admin_url, folder) as url:
        migrate.upgrade(url)
        engine = make_engine(url)
        load = load_postgres if backend == "postgresql" else load_sqlite
        _, load_s = timed(lambda: load(engine, accounts))
        floor_rows, floor_s = timed(lambda: floor(engine))
        journal_rows, journal_s = timed(lambda: journal_floor(engine))
        clock = Clock(DAY, lambda: NOW)
        timer = StatementTimer(engine)
        with timer if profile else nullcontext():
            report, day_s = timed(
                lambda: flows.run_cob(engine, clock, as_of=DAY, partition_size=partition_size)
            )
        if profile:
            timer.print(day_s)
        assert report.ok and report.accounts_closed == accounts, report
        catch_s = 0.0
        if catch_up:
            through = DAY + dt.timedelta(days=catch_up)
            caught, catch_s = timed(
                lambda: flows.run_cob(engine, clock, as_of=through, partition_size=partition_size)
            )
            assert caught.ok and caught.days_closed == accounts * catch_up, caught
        engine.dispose()
    return {
        "backend": backend,
        "accounts": accounts,
        "load_s": load_s,
        "floor_rows": floor_rows,
        "floor_s": floor_s,
        "journal_rows": journal_rows,
        "journal_s": journal_s,
        "day_s": day_s,
        "day": report,
        "catch_s": catch_s,
        "catch_days": catch_up,
    }


def print_figures(results: list[dict[str, Any]]) -> None:
    table = Table(title=f"Set-based close of business, one business day ({DAY})")
    for column in (
        "backend", "accounts", "load s", "floor (INSERT…SELECT) acc/s",
        "journal floor (legs, summary entries) acc/s", "COB one day s", "COB acc/s",
        "ratio to floor", "ratio to journal floor", "catch-up acc-days/s",
        "interest accrued", "bucket moves",
    ):  # fmt: skip
        table.add_column(column, justify="right")
    for r in results:
        floor_rate = r["accounts"] / r["floor_s"]
        journal_rate = r["accounts"] / r["journal_s"]
        rate = r["accounts"] / r["day_s"]
        tally = r["day"].tally
        table.add_row(
            r["backend"],
            f"{r['accounts']:,}",
            f"{r['load_s']:.1f}",
            f"{floor_rate:,.0f}  ({r['floor_rows']:,} rows in {r['floor_s']:.2f} s)",
            f"{journal_rate:,.0f}  ({r['journal_rows']:,} rows in {r['journal_s']:.2f} s)",
            f"{r['day_s']:.1f}",
            f"{rate:,.0f}",
            f"{rate / floor_rate:.2f}×",
            f"{rate / journal_rate:.2f}×",
            f"{r['accounts'] * r['catch_days'] / r['catch_s']:,.0f}  ({r['catch_days']} days)"
            if r["catch_s"]
            else "—",
            f"{tally.interest_fen / 100:,.2f}",
            f"{tally.bucket_moves:,}",
        )
    Console(width=240).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument(
        "--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--partition-size", type=int, default=flows.DEFAULT_PARTITION_SIZE)
    parser.add_argument("--catch-up-days", type=int, default=30)
    parser.add_argument(
        "--catch-up-max",
        type=int,
        default=10_000,
        help="Measure the catch-up only on books up to this many accounts.",
    )
    parser.add_argument(
        "--profile", action="store_true", help="Print the one day's time per SQL statement."
    )
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for accounts in args.accounts:
            for backend in args.backends:
                catch_up = args.catch_up_days if accounts <= args.catch_up_max else 0
                result = measure(
                    backend,
                    accounts,
                    args.admin_url,
                    Path(folder),
                    args.partition_size,
                    catch_up,
                    args.profile,
                )
                results.append(result)
                print_figures([result])
    print_figures(results)


if __name__ == "__main__":
    main()
