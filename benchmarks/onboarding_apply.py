"""How fast is onboarding? Validation, PII sealing and whole submissions on SQLite.

Baseline (measured in the same run): the three bare library checks every application needs
(stdnum resident ID, Luhn, phonenumbers). Figures are printed as ratios against it.

    PYTHONPATH=src python benchmarks/onboarding_apply.py [N]
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric

from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import make_engine
from limitwise.onboarding.flows import OnboardingContext, submit_application
from limitwise.onboarding.intake import parse_application
from limitwise.onboarding.pii import PiiVault
from limitwise.onboarding.policy import OnboardingPolicy
from limitwise.providers.registry import local_sources

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "applications" / "car_owner.json"
SAMPLE_DAY = dt.date(2026, 11, 23)


def per_call_us(fn: Callable[[], object], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat * 1e6


def main(n: int) -> None:
    raw = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    clock = Clock.fixed(SAMPLE_DAY, at=dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC))
    policy = OnboardingPolicy()
    # Window 0: the same example may be submitted again and again without being a duplicate.
    ctx = OnboardingContext(local_sources(), PiiVault.from_settings(), policy, 0)

    def bare_checks() -> None:
        ric.validate(raw["resident_id"])
        luhn.validate(raw["bank_card"].replace(" ", ""))
        phonenumbers.is_valid_number(phonenumbers.parse(raw["mobile"], "CN"))

    def seal() -> None:
        ctx.vault.encrypt("application_pii", "x" * 120)
        ctx.vault.blind_index("resident_id", raw["resident_id"])

    baseline = per_call_us(bare_checks, n * 10)
    parse = per_call_us(lambda: parse_application(raw, clock=clock, policy=policy), n * 10)
    sealing = per_call_us(seal, n * 10)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)

        def submit() -> None:
            submit_application(engine, clock, raw=raw, context=ctx)

        submit()  # warm the provider file caches
        cpu_started = time.process_time()
        whole = per_call_us(submit, n)
        whole_cpu = (time.process_time() - cpu_started) / n * 1e6
        engine.dispose()
    print(f"applications: {n} whole submissions, {n * 10} validations")
    rows = [
        ("baseline bare library checks", baseline),
        ("full input validation", parse),
        ("PII seal + blind index", sealing),
        ("whole submission on SQLite", whole),
        ("  of which CPU in this process", whole_cpu),
    ]
    for label, micros in rows:
        print(f"{label:<30}{micros:10.1f} us/application {micros / baseline:8.2f}x baseline")
    print(f"whole submissions: {1e6 / whole:.0f} applications/s in one thread (wall clock)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
