"""An application end to end (onboarding + features + decision + account opened) beside the
bare onboarding submission, p50/p99 on SQLite and PostgreSQL, and the one-account review
(features + decision + disposal + record).

Baseline (measured in the same run, on the same database): the bare onboarding submission
that ends ``pending_decision``. The end-to-end figure is printed as a ratio against it.

    PYTHONPATH=src python benchmarks/applications.py [N] [--admin-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine, unit_of_work
from limitwise.lines import flows, service
from limitwise.lines.rules import LineRules
from limitwise.onboarding.flows import OnboardingContext, submit_application
from limitwise.onboarding.pii import PiiVault
from limitwise.onboarding.policy import OnboardingPolicy
from limitwise.providers.registry import local_sources

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "applications" / "car_owner.json"
CLOCK = Clock.fixed(dt.date(2026, 11, 23), at=dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC))
WARM_UP = 5


def timings_ms(fn: Callable[[], object], n: int) -> list[float]:
    for _ in range(WARM_UP):
        fn()
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1e3)
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def measure(url: str, n: int) -> list[tuple[str, list[float]]]:
    raw = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    # Window 0: the same person may apply again and again without being a duplicate; the
    # per-customer cap is lifted so every repeat is approved and opens its account.
    onboarding = OnboardingContext(local_sources(), PiiVault.from_settings(), OnboardingPolicy(), 0)
    context = flows.default_context()
    context = type(context)(features=context.features, rules=LineRules(per_customer_cap_fen=10**15))
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        flows.prepare(engine, CLOCK, context=context)
        refs: list[str] = []

        def bare() -> None:
            submit_application(engine, CLOCK, raw=raw, context=onboarding)

        def end_to_end() -> None:
            _, decided = flows.apply(engine, CLOCK, raw=raw, onboarding=onboarding, context=context)
            assert decided is not None and decided.account_ref is not None
            refs.append(decided.account_ref)

        results = [("bare onboarding submission", timings_ms(bare, n))]
        results.append(("application end to end", timings_ms(end_to_end, n)))
        accounts = iter(refs * 2)

        def review() -> None:
            with unit_of_work(engine) as session:
                service.review_account(session, CLOCK, ref=next(accounts), context=context)

        results.append(("one-account review", timings_ms(review, min(n, len(refs) - WARM_UP))))
        return results
    finally:
        engine.dispose()


def report(backend: str, results: list[tuple[str, list[float]]]) -> None:
    baseline = statistics.median(results[0][1])
    print(f"{backend}:")
    for label, values in results:
        p50 = statistics.median(values)
        print(
            f"  {label:<28} p50 {p50:7.2f} ms  p99 {p(values, 99):7.2f} ms  "
            f"{p50 / baseline:5.2f}x the bare submission"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int, nargs="?", default=100)
    parser.add_argument(
        "--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report("SQLite", measure(f"sqlite:///{Path(tmp) / 'bench.db'}", args.n))
    name = f"lw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        report("PostgreSQL", measure(args.admin_url.rsplit("/", 1)[0] + f"/{name}", args.n))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
