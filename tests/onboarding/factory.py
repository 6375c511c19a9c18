"""Builders for onboarding tests: sample people (in the packaged sample data) and contexts."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import threading
from typing import Any

from hypothesis import strategies as st

from limitwise.kit.clock import Clock
from limitwise.onboarding.flows import OnboardingContext
from limitwise.onboarding.pii import PiiVault
from limitwise.onboarding.policy import OnboardingPolicy
from limitwise.providers.registry import ProviderSources, local_sources

#: The business date the packaged sample data is fresh for.
SAMPLE_DAY = dt.date(2026, 11, 23)
GRANTED_AT = "2026-11-23T09:00:00+08:00"

CAR_OWNER_ID = "110105199003071239"
SALARIED_ID = "440305199708203454"
UNDER_AGE_ID = "110105201001014564"
OVER_AGE_ID = "110105196001015678"
CARD_NOT_OWN_ID = "330106199212317896"
STALE_BUREAU_ID = "310104198805120123"
NO_BUREAU_ID = "110105198811240024"

PEOPLE: dict[str, dict[str, str]] = {
    CAR_OWNER_ID: {"name": "王小明", "mobile": "13812345678", "bank_card": "6222021234567890128"},
    SALARIED_ID: {"name": "李娜", "mobile": "13912345678", "bank_card": "6217001234567890122"},
    UNDER_AGE_ID: {"name": "张小雨", "mobile": "15012345678", "bank_card": "6200001111222233334"},
    OVER_AGE_ID: {"name": "刘建国", "mobile": "18612345678", "bank_card": "6234567890123456780"},
    CARD_NOT_OWN_ID: {"name": "陈静", "mobile": "13712345678", "bank_card": "6228480012345678903"},
    STALE_BUREAU_ID: {"name": "赵磊", "mobile": "13612345678", "bank_card": "6234567890123456780"},
    NO_BUREAU_ID: {"name": "周婷", "mobile": "15912345678", "bank_card": "6228480012345678903"},
}

CAR = {
    "plate_number": "京A12345",
    "vin": "LSVAM4187L2184847",
    "model": "Volkswagen Lavida 1.5L",
    "first_registration_year": 2020,
    "purchase_price": "118000.00",
    "mileage_km": 61000,
    "documents": ["registration_certificate.pdf"],
}

ALL_PURPOSES = ("identity_verification", "bureau_query", "income_data", "vehicle_data")


def sample_clock(day: dt.date = SAMPLE_DAY) -> Clock:
    return Clock.fixed(day, at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))


def application(
    resident_id: str = CAR_OWNER_ID,
    *,
    purposes: tuple[str, ...] = ALL_PURPOSES,
    vehicle: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resident_id": resident_id,
        **PEOPLE[resident_id],
        "declared_monthly_income": "20000.00",
        "consents": [
            {"purpose": p, "text_version": "2026.1", "granted_at": GRANTED_AT} for p in purposes
        ],
    }
    if vehicle is not None:
        body["vehicle"] = copy.deepcopy(vehicle)
    body.update(overrides)
    return body


def key(seed: str) -> str:
    return base64.b64encode(seed.encode().ljust(32, b"-")[:32]).decode()


def vault(*key_ids: str) -> PiiVault:
    """A vault whose keys are derived from their ids (first one encrypts)."""
    ids = key_ids or ("k1",)
    return PiiVault(
        keys={k: base64.b64decode(key(k)) for k in ids},
        blind_key=b"test-blind-index-key-32-bytes!!",
    )


def context(
    *,
    sources: ProviderSources | None = None,
    policy: OnboardingPolicy | None = None,
    pii: PiiVault | None = None,
    window_days: int = 30,
) -> OnboardingContext:
    return OnboardingContext(
        sources=sources or local_sources(),
        vault=pii or vault(),
        policy=policy or OnboardingPolicy(),
        duplicate_window_days=window_days,
    )


#: Any JSON value, for fuzzing application fields.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = ["name", "resident_id", "mobile", "bank_card", "declared_monthly_income", "consents"]


class Spy:
    """Wraps a record source and counts the calls that reach it."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = 0

    @property
    def name(self):
        return self.inner.name

    def fetch(self, query):
        self.calls += 1
        return self.inner.fetch(query)


class Rendezvous(Spy):
    """A source whose callers all wait for each other inside the call: they can only meet
    if none of them holds a lock (or a transaction) the others need to get there."""

    def __init__(self, inner, parties):
        super().__init__(inner)
        self.barrier = threading.Barrier(parties)

    def fetch(self, query):
        self.barrier.wait(timeout=10)
        return super().fetch(query)
