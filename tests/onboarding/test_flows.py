import dataclasses
import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from limitwise.kit.db import make_engine, unit_of_work
from limitwise.kit.errors import InvalidRequest
from limitwise.onboarding import service
from limitwise.onboarding.flows import submit_application
from limitwise.onboarding.models import Application, ApplicationCheck, ConsentRecord
from limitwise.onboarding.policy import OnboardingPolicy
from limitwise.onboarding.schemas import ApplicationStatus
from limitwise.providers import bureau
from limitwise.providers.base import ConsentMissing
from limitwise.providers.models import ProviderResponse
from limitwise.providers.registry import local_sources
from limitwise.providers.schemas import ConsentGrant, ConsentPurpose, Quality
from tests.onboarding.factory import (
    CAR,
    CAR_OWNER_ID,
    CARD_NOT_OWN_ID,
    FIELDS,
    NO_BUREAU_ID,
    SALARIED_ID,
    STALE_BUREAU_ID,
    UNDER_AGE_ID,
    Rendezvous,
    Spy,
    application,
    context,
    json_values,
    sample_clock,
)


def spied_sources():
    sources = local_sources()
    return dataclasses.replace(
        sources, **{f.name: Spy(getattr(sources, f.name)) for f in dataclasses.fields(sources)}
    )


def submit(engine, raw, ctx=None, clock=None):
    return submit_application(engine, clock or sample_clock(), raw=raw, context=ctx or context())


def count(engine, model) -> int:
    with unit_of_work(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_car_owner_gets_a_typed_facts_bundle_and_everything_is_stored(engine):
    outcome = submit(engine, application(vehicle=CAR))
    assert outcome.status is ApplicationStatus.PENDING_DECISION
    assert outcome.reasons == ()
    facts = outcome.facts
    assert facts.identity.verified and facts.identity.age_years == 36
    assert facts.bureau.facts.credit_score == 742  # the newest bureau record
    assert facts.income.facts.verified_monthly_income_fen == 1_800_000
    assert facts.income.facts.method == "housing_fund+salary_flow"
    # 112,000 new x 0.41 retained at 6 years x mileage factor 1.056 capped at 1.05
    assert facts.vehicle.facts.valuation_fen == 4_821_600
    assert facts.vehicle.facts.ownership_match and facts.vehicle.facts.confidence == 1
    assert str(facts.macro.facts.risk_appetite_factor) == "1.00"
    assert count(engine, Application) == 1
    assert count(engine, ConsentRecord) == 4
    assert count(engine, ProviderResponse) == 5
    with unit_of_work(engine) as session:
        view = service.application_view(session, application_ref=outcome.application_ref)
        rows = session.scalars(select(ProviderResponse)).all()
    assert view.inputs["resident_id"] == "110105********1239"
    assert view.outcome["facts"]["vehicle"]["facts"]["valuation_fen"] == 4_821_600
    assert all(c[1] for c in view.checks)
    assert [(r["kind"], r["quality"]) for r in view.provider_responses] == [
        ("realname", "ok"),
        ("bureau", "ok"),
        ("income", "ok"),
        ("vehicle", "ok"),
        ("macro", "ok"),
    ]
    assert {r.kind for r in rows} == {"realname", "bureau", "income", "vehicle", "macro"}
    assert all(r.quality == "ok" and r.provider.startswith("local:") for r in rows)


@pytest.mark.parametrize(
    ("resident_id", "code"),
    [
        (UNDER_AGE_ID, "below_legal_age"),
        (CARD_NOT_OWN_ID, "card_not_in_own_name"),
    ],
)
def test_ineligible_applicants_are_declined_before_any_data_is_gathered(engine, resident_id, code):
    sources = spied_sources()
    outcome = submit(engine, application(resident_id), context(sources=sources))
    assert outcome.status is ApplicationStatus.DECLINED
    assert [r.code for r in outcome.reasons] == [code]
    assert outcome.facts is None
    assert sources.bureau.calls == sources.income.calls == sources.macro.calls == 0
    with unit_of_work(engine) as session:
        failed = session.scalars(
            select(ApplicationCheck.code).where(ApplicationCheck.passed.is_(False))
        ).all()
    assert failed == [code]


def test_no_provider_is_called_without_its_consent(engine):
    sources = spied_sources()
    raw = application(purposes=("identity_verification", "bureau_query"), vehicle=CAR)
    outcome = submit(engine, raw, context(sources=sources))
    assert outcome.status is ApplicationStatus.PENDING_DECISION
    assert sources.income.calls == sources.vehicle.calls == 0
    assert outcome.facts.income.quality is Quality.MISSING
    assert outcome.facts.income.reason == "not_consented"
    assert {r.code for r in outcome.reasons} == {"income_missing", "vehicle_missing"}


def test_missing_required_consent_declines_without_calling_the_bureau(engine):
    sources = spied_sources()
    outcome = submit(
        engine, application(purposes=("identity_verification",)), context(sources=sources)
    )
    assert outcome.status is ApplicationStatus.DECLINED
    assert [r.code for r in outcome.reasons] == ["consent_missing_bureau_query"]
    assert sources.bureau.calls == 0 and sources.realname.calls == 0


def test_providers_refuse_to_run_without_the_matching_grant():
    wrong = ConsentGrant(ConsentPurpose.INCOME_DATA, "cns_x", "2026.1")
    subject = None  # never reached: the consent check comes first
    for grant in (None, wrong):
        with pytest.raises(ConsentMissing):
            bureau.report(
                local_sources().bureau,
                subject=subject,
                grant=grant,
                clock=sample_clock(),
                max_age_days=None,
            )


@pytest.mark.parametrize(
    ("resident_id", "reason"),
    [(STALE_BUREAU_ID, "bureau_stale"), (NO_BUREAU_ID, "bureau_missing")],
)
def test_unusable_bureau_data_makes_the_application_incomplete(engine, resident_id, reason):
    outcome = submit(
        engine, application(resident_id, purposes=("identity_verification", "bureau_query"))
    )
    assert outcome.status is ApplicationStatus.INCOMPLETE
    assert reason in {r.code for r in outcome.reasons}


def test_duplicates_within_the_window_only(engine):
    first = submit(engine, application(SALARIED_ID))
    again = submit(engine, application(SALARIED_ID), clock=sample_clock(dt.date(2026, 11, 30)))
    assert again.status is ApplicationStatus.DUPLICATE
    assert again.duplicate_of == first.application_ref
    assert [r.code for r in again.reasons] == ["duplicate_application"]
    later = submit(
        engine,
        application(SALARIED_ID),
        ctx=context(window_days=5),
        clock=sample_clock(dt.date(2026, 11, 30)),
    )
    assert later.status is not ApplicationStatus.DUPLICATE


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_twin_applications_yield_one_application_and_duplicates(engine):
    """PostgreSQL, where transactions really overlap (SQLite's BEGIN IMMEDIATE queues them):
    three twin submissions meet inside the real-name call, so all three screen the book
    before any is stored; storing them under the person's lock keeps one and makes the
    others duplicates of it."""
    sources = dataclasses.replace(
        local_sources(), realname=Rendezvous(local_sources().realname, parties=3)
    )
    start = threading.Barrier(3)

    def twin(_index: int):
        start.wait(timeout=30)
        return submit(engine, application(SALARIED_ID), context(sources=sources))

    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = list(pool.map(twin, range(3)))
    (first,) = [o for o in outcomes if o.status is ApplicationStatus.PENDING_DECISION]
    duplicates = [o for o in outcomes if o is not first]
    assert [o.status for o in duplicates] == [ApplicationStatus.DUPLICATE] * 2
    assert {o.duplicate_of for o in duplicates} == {first.application_ref}
    assert sources.realname.calls == 3  # they met: nobody waited for a lock to ask
    with unit_of_work(engine) as session:
        stored = session.execute(select(Application.status, Application.duplicate_of_ref)).all()
        answers = session.scalars(select(ProviderResponse.application_ref)).all()
    assert sorted(stored) == sorted(
        [("duplicate", first.application_ref)] * 2 + [("pending_decision", None)]
    )
    # every query made is on record, the duplicates' too (4 providers without a vehicle)
    assert sorted(answers) == sorted(o.application_ref for o in outcomes for _ in range(4))


def test_invitation_list_gates_entry(engine):
    ctx = context(policy=OnboardingPolicy(require_invitation=True))
    assert [r.code for r in submit(engine, application(SALARIED_ID), ctx).reasons] == [
        "not_invited"
    ]
    with unit_of_work(engine) as session:
        masked = service.invite(
            session,
            sample_clock(),
            vault=ctx.vault,
            resident_id=SALARIED_ID,
            campaign="spring",
            valid_until=dt.date(2026, 12, 31),
        )
    assert masked == "440305********3454"
    invited = submit(engine, application(SALARIED_ID), context(policy=ctx.policy, window_days=0))
    assert invited.status is ApplicationStatus.PENDING_DECISION


def test_bad_input_stores_nothing(engine):
    raw = application(resident_id=CAR_OWNER_ID)
    raw["bank_card"] = "6222021234567890127"
    with pytest.raises(InvalidRequest):
        submit(engine, raw)
    assert count(engine, Application) == count(engine, ConsentRecord) == 0
    assert count(engine, ProviderResponse) == 0


def test_key_rotation_reseals_every_application(engine):
    from tests.onboarding.factory import vault

    submit(engine, application(vehicle=CAR), context(pii=vault("k1")))
    submit(engine, application(SALARIED_ID), context(pii=vault("k1")))
    rotated_vault = vault("k2", "k1")
    with unit_of_work(engine) as session:
        assert service.rotate_pii_keys(session, vault=rotated_vault, batch_size=1) == 2
        assert service.key_usage(session) == {"k2": 2}
    with unit_of_work(engine) as session:
        row = session.scalars(select(Application).order_by(Application.id)).first()
        pii = service.reveal_pii(vault("k2"), row)
    assert pii["resident_id"] == CAR_OWNER_ID and pii["vin"] == CAR["vin"]


def test_log_lines_are_masked(engine, caplog):
    caplog.set_level(logging.DEBUG)
    submit(engine, application(STALE_BUREAU_ID))
    assert "310104********0123" in caplog.text
    assert STALE_BUREAU_ID not in caplog.text


class Down:
    name = "http:down"

    def fetch(self, query):
        from limitwise.providers.base import SourceUnavailable

        raise SourceUnavailable("timeout")


def test_unverifiable_identity_is_incomplete_and_no_data_is_queried(engine):
    sources = dataclasses.replace(spied_sources(), realname=Down())
    outcome = submit(engine, application(SALARIED_ID), context(sources=sources))
    assert outcome.status is ApplicationStatus.INCOMPLETE
    assert [r.code for r in outcome.reasons] == ["realname_unavailable"]
    assert sources.bureau.calls == sources.income.calls == 0


def test_a_policy_without_real_name_checks_needs_no_identity_consent(engine):
    policy = OnboardingPolicy(
        require_real_name_verified=False,
        require_card_in_own_name=False,
        required_consents=(ConsentPurpose.BUREAU_QUERY,),
    )
    sources = spied_sources()
    outcome = submit(
        engine,
        application(SALARIED_ID, purposes=("bureau_query",)),
        context(sources=sources, policy=policy),
    )
    assert outcome.status is ApplicationStatus.PENDING_DECISION
    assert sources.realname.calls == 0
    assert outcome.facts.identity.real_name.reason == "not_consented"
    assert not outcome.facts.identity.verified


def test_a_card_used_by_another_person_is_declined(engine):
    first = application(SALARIED_ID)
    submit(engine, first)
    borrowed = application(CAR_OWNER_ID, bank_card=first["bank_card"])
    outcome = submit(engine, borrowed)
    assert outcome.status is ApplicationStatus.DECLINED
    assert [r.code for r in outcome.reasons] == ["bank_card_used_by_others"]
    lenient = OnboardingPolicy(decline_card_used_by_others=False)
    again = submit(engine, borrowed, context(policy=lenient, window_days=0))
    shared = next(c for c in again.checks if c.name == "bank_card_shared")
    assert (shared.passed, shared.code) == (True, "bank_card_used_by_others")
    # Lenient on sharing, but the real-name check still sees the card is not theirs.
    assert [r.code for r in again.reasons] == ["card_not_in_own_name"]


class Broken:
    name = "local:broken"

    def fetch(self, query):
        raise RuntimeError("disk on fire")


def test_a_crash_half_way_leaves_nothing_behind(engine):
    sources = dataclasses.replace(local_sources(), income=Broken())
    with pytest.raises(RuntimeError):
        submit(engine, application(SALARIED_ID), context(sources=sources))
    for model in (Application, ApplicationCheck, ConsentRecord, ProviderResponse):
        assert count(engine, model) == 0


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory, sqlite_template):
    import shutil

    path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    shutil.copyfile(sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_fuzzed_submissions_are_stored_whole_or_not_at_all(fuzz_engine, field, value):
    raw = application(SALARIED_ID)
    raw[field] = value
    before = count(fuzz_engine, Application), count(fuzz_engine, ConsentRecord)
    try:
        submit(fuzz_engine, raw, context(window_days=0))
    except InvalidRequest:
        assert (count(fuzz_engine, Application), count(fuzz_engine, ConsentRecord)) == before
    else:
        assert count(fuzz_engine, Application) == before[0] + 1
