"""How fast are the features? The whole-book build for 100,000 and 1,000,000 accounts on
PostgreSQL beside a plain ``SELECT`` of the same rows; the one-account build + decision on
that book; and an application end to end on SQLite and PostgreSQL beside the bare
onboarding submission (``benchmarks/applications.py``, run from here).

Baseline (measured in the same run, on the same database): for the whole book, the
statements the features read, fetched bare (``repository.source_queries``) — the floor no
feature build can beat; for applications, the bare onboarding submission.

The synthetic book is bulk-loaded with ``COPY``: per account one application decision, one
draw of three monthly instalments, the principal and interest of the instalments due paid
on their due date (one account in ten misses its latest one and moved bucket), a draw and
repayment events, a bureau refresh for one in three and a line change for one in five.

    PYTHONPATH=src:. python benchmarks/features.py [--sizes 100000 1000000] [--admin-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import polars as pl
import psycopg
from sqlalchemy import Engine, create_engine, text

from applications import measure as measure_applications
from applications import p, report
from limitwise.features import repository
from limitwise.features import service as features
from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.lines import flows, service

AS_OF = dt.date(2026, 11, 23)
CLOCK = Clock.fixed(AS_OF, at=dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC))
CREATED = "2026-11-23 12:00:00+00"
ONE_ACCOUNT_SAMPLES = 200
APPLICATIONS = 100


def _frames(start: int, n: int, product_id: int) -> dict[str, pl.DataFrame]:
    """Accounts ``start+1 .. start+n`` and all their rows, built column-wise."""
    i = pl.int_range(start + 1, start + n + 1, eager=True).alias("id")
    base = pl.DataFrame(i).with_columns(
        opened_on=pl.lit(AS_OF) - pl.duration(days=30 + pl.col("id") % 400),
        line_fen=(5 + pl.col("id") % 20) * 1000_00,
        late=pl.col("id") % 10 == 0,
    )
    base = base.with_columns(
        drawn_on=pl.col("opened_on") + pl.duration(days=5),
        amount_fen=pl.col("line_fen") * (pl.col("id") % 10) // 10 + 300_00,
        ref="B" + pl.col("id").cast(pl.String),
    )
    accounts = base.select(
        "id",
        "ref",
        product_id=pl.lit(product_id),
        line_fen="line_fen",
        status=pl.lit("active"),
        opened_on="opened_on",
        cob_through=pl.lit(AS_OF - dt.timedelta(days=1)),
        days_past_due=pl.lit(0),
        bucket=pl.lit("M0"),
        next_seq=pl.lit(2),
        created_at=pl.lit(CREATED),
    )
    draws = base.select(
        "id",
        ref="D" + pl.col("id").cast(pl.String),
        idempotency_key="k" + pl.col("id").cast(pl.String),
        credit_account_id="id",
        seq=pl.lit(1),
        amount_fen="amount_fen",
        repayment_type=pl.lit("equal_principal"),
        term_months=pl.lit(3),
        drawn_on="drawn_on",
        daily_rate_bps=pl.lit("4.0"),
        penalty_rate_bps=pl.lit("6.0"),
        early_repayment_fee_bps=pl.lit("0"),
        apr=pl.lit("0.1460"),
        principal_outstanding_fen="amount_fen",
        accrual_remainder_nfen=pl.lit(0),
        status=pl.lit("open"),
        disbursement_entry_ref="E" + pl.col("id").cast(pl.String),
    )
    inst = (
        base.join(pl.DataFrame({"k": [1, 2, 3]}), how="cross")
        .with_columns(
            inst_id=(pl.col("id") - 1) * 3 + pl.col("k"),
            due_date=pl.col("drawn_on") + pl.duration(days=30 * pl.col("k")),
            principal=pl.col("amount_fen") // 3,
            interest=pl.col("amount_fen") // 100,
        )
        .with_columns(
            paid=(pl.col("due_date") < AS_OF)
            & ~(
                pl.col("late")
                & (
                    pl.col("due_date")
                    == pl.col("due_date").filter(pl.col("due_date") < AS_OF).max().over("id")
                )
            )
        )
    )
    instalments = inst.select(
        id="inst_id",
        draw_id="id",
        seq="k",
        period_start=pl.col("due_date") - pl.duration(days=30),
        due_date="due_date",
        principal_due_fen="principal",
        interest_scheduled_fen="interest",
        interest_accrued_fen="interest",
        penalty_accrued_fen=pl.lit(0),
        penalty_remainder_nfen=pl.lit(0),
        fee_charged_fen=pl.lit(0),
        principal_paid_fen=pl.when("paid").then("principal").otherwise(0),
        interest_paid_fen=pl.when("paid").then("interest").otherwise(0),
        penalty_paid_fen=pl.lit(0),
        fee_paid_fen=pl.lit(0),
    )
    paid = inst.filter("paid")
    allocations = pl.concat(
        [
            paid.select(
                credit_account_id="id",
                repayment_id=pl.lit(None, pl.Int64),
                instalment_id="inst_id",
                timing=pl.lit("due"),
                component=pl.lit(component),
                amount_fen=column,
                effective_date="due_date",
                superseded=pl.lit(False),
            )
            for component, column in (("principal", "principal"), ("interest", "interest"))
        ]
    ).with_row_index("id", offset=start * 6 + 1)
    late = inst.filter(pl.col("late") & ~pl.col("paid") & (pl.col("due_date") < AS_OF))
    events = (
        pl.concat(
            [
                base.select(
                    credit_account_id="id",
                    kind=pl.lit("drawn"),
                    as_of="drawn_on",
                    payload_json=pl.lit('{"amount_fen": 100000}'),
                ),
                paid.filter(pl.col("k") == 1).select(
                    credit_account_id="id",
                    kind=pl.lit("repaid"),
                    as_of="due_date",
                    payload_json=pl.lit('{"amount_fen": 100000}'),
                ),
                late.select(
                    credit_account_id="id",
                    kind=pl.lit("bucket_changed"),
                    as_of=pl.col("due_date") + pl.duration(days=1),
                    payload_json=pl.lit('{"days_past_due": 1, "from": "M0", "to": "M1"}'),
                ),
                base.filter(pl.col("id") % 3 == 0).select(
                    credit_account_id="id",
                    kind=pl.lit("bureau_update"),
                    as_of=pl.col("opened_on") + pl.duration(days=20),
                    payload_json=pl.lit('{"bureau_score": 690, "multi_lender_count": 2}'),
                ),
                base.filter(pl.col("id") % 5 == 0).select(
                    credit_account_id="id",
                    kind=pl.lit("line_changed"),
                    as_of=pl.col("opened_on") + pl.duration(days=25),
                    payload_json=pl.format(
                        '{{"from_fen": {}, "to_fen": {}}}',
                        pl.col("line_fen") - 1000_00,
                        pl.col("line_fen"),
                    ),
                ),
            ]
        )
        .with_columns(created_at=pl.lit(CREATED))
        .with_row_index("id", offset=start * 6 + 1)
    )
    carried = {
        "product": "standard",
        "age_years": 34,
        "kyc_verified": True,
        "app_score": 640,
        "bureau_score": 700,
        "verified_income_monthly_fen": 1500000,
        "vehicle_value_fen": 0,
        "multi_lender_count": 1,
        "risk_appetite": 1.0,
    }
    decisions = base.select(
        "id",
        decision_ref="L" + pl.col("id").cast(pl.String),
        trigger=pl.lit("application"),
        trigger_ref="A" + pl.col("id").cast(pl.String),
        account_ref="ref",
        application_ref="A" + pl.col("id").cast(pl.String),
        as_of="opened_on",
        policy_key=pl.lit("jiebei-default"),
        policy_version=pl.lit("bench"),
        policy_hash=pl.lit("0" * 64),
        scorecards_json=pl.lit("[]"),
        features_json=pl.lit(json.dumps(carried)),
        missing_json=pl.lit("[]"),
        trace_json=pl.lit("[]"),
        proposed_action=pl.lit("approve"),
        proposed_line_fen="line_fen",
        action=pl.lit("approve"),
        old_line_fen=pl.lit(0),
        new_line_fen="line_fen",
        old_status=pl.lit("none"),
        new_status=pl.lit("active"),
        timing=pl.lit("now"),
        effective_on="opened_on",
        reasons_json=pl.lit("[]"),
        notice=pl.lit("welcome"),
        sub_lines_json=pl.lit("{}"),
        adjustments_json=pl.lit("[]"),
        created_at=pl.lit(CREATED),
    )
    return {
        "credit_accounts": accounts,
        "draws": draws,
        "instalments": instalments,
        "allocations": allocations,
        "account_events": events,
        "line_decisions": decisions,
    }


def bulk_load(dsn: str, start: int, n: int, product_id: int) -> int:
    """COPY accounts ``start+1 .. start+n`` and their rows in; returns the rows loaded."""
    rows = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        # The rows are consistent by construction: skip the per-row foreign-key triggers.
        cur.execute("SET session_replication_role = replica")
        for table, frame in _frames(start, n, product_id).items():
            buffer = io.BytesIO()
            frame.write_csv(buffer, include_header=False)
            columns = ", ".join(frame.columns)
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            rows += frame.height
        cur.execute("ANALYZE")
    return rows


def whole_book(engine: Engine, accounts: int) -> tuple[float, float, float]:
    """Seconds to fetch the feature statements bare (rows, then COPY bytes), and to build
    every feature (which reads through COPY on PostgreSQL)."""
    queries = repository.source_queries(AS_OF).values()
    with unit_of_work(engine) as session:
        started = time.perf_counter()
        fetched = sum(len(repository.fetch(session, stmt)) for stmt in queries)
        select = time.perf_counter() - started
        started = time.perf_counter()
        copied = sum(len(repository.copy_csv(session, stmt) or b"") for stmt in queries)
        copy = time.perf_counter() - started
        started = time.perf_counter()
        frame = features.book_features(session, as_of=AS_OF)
        build = time.perf_counter() - started
    assert frame.height == accounts, (frame.height, accounts)
    print(f"  {accounts:>9,} accounts, {fetched:,} source rows ({copied / 1e6:,.0f} MB as CSV)")
    return select, copy, build


def one_account(engine: Engine, accounts: int) -> list[float]:
    """Milliseconds for one account's features and its policy decision (nothing written)."""
    source = features.PolicyFeatures()
    rng = random.Random(7)
    refs = [f"B{rng.randint(1, accounts)}" for _ in range(ONE_ACCOUNT_SAMPLES)]
    out = []
    with unit_of_work(engine) as session:
        evaluator = service.live_evaluator(session, "jiebei-default")
        for ref in refs:
            started = time.perf_counter()
            row = source.account(session, ref=ref, as_of=AS_OF)
            evaluator.evaluate(row.values)
            out.append((time.perf_counter() - started) * 1e3)
    return out[5:]  # the first few warm the statement caches


def book_figures(url: str, sizes: list[int]) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        flows.prepare(engine, CLOCK, context=flows.default_context())
        with engine.connect() as conn:
            product_id = conn.execute(
                text("SELECT id FROM servicing_products WHERE code = 'jiebei-standard'")
            ).scalar_one()
        loaded = 0
        print("PostgreSQL whole-book features (as of 2026-11-23):")
        for size in sorted(sizes):
            started = time.perf_counter()
            rows = bulk_load(dsn, loaded, size - loaded, product_id)
            print(
                f"  COPY {rows:,} rows for {size - loaded:,} accounts in "
                f"{time.perf_counter() - started:.1f} s"
            )
            loaded = size
            select, copy, build = whole_book(engine, size)
            for label, seconds in (
                ("plain SELECT of the same rows", select),
                ("COPY of the same rows (bytes)", copy),
                ("whole-book feature build", build),
            ):
                print(
                    f"    {label:<31}{size / seconds:>10,.0f} accounts/s ({seconds:6.2f} s)"
                    f"  {seconds / select:5.2f}x the SELECT"
                )
            timings = one_account(engine, size)
            print(
                f"    one-account features + decision  p50 {statistics.median(timings):.2f} ms"
                f"  p99 {p(timings, 99):.2f} ms"
            )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--applications", type=int, default=APPLICATIONS)
    parser.add_argument(
        "--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    names = [f"lw_bench_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = args.admin_url.rsplit("/", 1)[0]
    try:
        book_figures(f"{base}/{names[0]}", args.sizes)
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = measure_applications(f"sqlite:///{Path(tmp) / 'b.db'}", args.applications)
        report("SQLite applications", sqlite)
        report(
            "PostgreSQL applications", measure_applications(f"{base}/{names[1]}", args.applications)
        )
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
