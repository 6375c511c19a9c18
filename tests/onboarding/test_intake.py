import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limitwise.kit.errors import InvalidRequest
from limitwise.onboarding.intake import parse_application
from limitwise.onboarding.policy import OnboardingPolicy
from tests.onboarding.factory import (
    CAR,
    CAR_OWNER_ID,
    FIELDS,
    application,
    json_values,
    sample_clock,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "applications"
POLICY = OnboardingPolicy()
CLOCK = sample_clock()


def problems_of(raw) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as caught:
        parse_application(raw, clock=CLOCK, policy=POLICY)
    return {p.field: p.rule for p in caught.value.problems}


def test_valid_application_is_normalised():
    request = parse_application(application(vehicle=CAR), clock=CLOCK, policy=POLICY)
    assert request.resident.number == CAR_OWNER_ID
    assert request.mobile == "+8613812345678"
    assert request.declared_monthly_income_fen == 2_000_000
    assert request.vehicle is not None and request.vehicle.query.purchase_price_fen == 11_800_000
    assert len(request.consents) == 4
    assert CAR_OWNER_ID not in repr(request)


def test_every_problem_is_reported_at_once_with_field_and_rule():
    raw = json.loads((EXAMPLES / "bad_input.json").read_text(encoding="utf-8"))
    assert problems_of(raw) == {
        "resident_id": "id_check_digit",
        "mobile": "mobile_invalid",
        "bank_card": "card_check_digit",
        "declared_monthly_income": "amount_not_decimal",
        "vehicle.plate_number": "plate_format",
        "vehicle.vin": "vin_format",
        "vehicle.first_registration_year": "year_range",
        "vehicle.purchase_price": "amount_not_positive",
        "consents[0].text_version": "known_consent_text",
        "consents[1].purpose": "enum",
    }


def test_control_characters_in_text_are_refused_by_name():
    raw = application(vehicle=CAR)
    raw["channel"] = "app\x00"
    raw["vehicle"]["model"] = "Model\x1b[31m"
    assert problems_of(raw) == {
        "channel": "text_control_character",
        "vehicle.model": "text_control_character",
    }


def test_shape_problems():
    raw = application()
    del raw["bank_card"]
    raw["surprise"] = 1
    raw["name"] = 42
    assert problems_of(raw) == {
        "bank_card": "missing",
        "surprise": "extra_forbidden",
        "name": "string_type",
    }
    assert problems_of([raw]) == {"application": "object"}


@pytest.mark.parametrize(
    ("granted_at", "rule"),
    [
        ("2026-11-24T09:00:00+08:00", "not_in_future"),
        ("2026-09-01T09:00:00+08:00", "consent_fresh"),
    ],
)
def test_consent_dates(granted_at, rule):
    raw = application()
    raw["consents"][0]["granted_at"] = granted_at
    assert problems_of(raw) == {"consents[0].granted_at": rule}


def test_consent_without_timezone_and_repeated_purpose():
    raw = application()
    raw["consents"][0]["granted_at"] = "2026-11-23T09:00:00"
    assert problems_of(raw) == {"consents[0].granted_at": "timezone_aware"}
    raw = application()
    raw["consents"].append(dict(raw["consents"][0]))
    assert problems_of(raw) == {"application": "unique"}


def assert_clean(raw) -> None:
    try:
        parse_application(raw, clock=CLOCK, policy=POLICY)
    except InvalidRequest as exc:
        assert exc.problems and all(p.field and p.rule for p in exc.problems)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_fuzz_any_json_is_refused_cleanly(raw):
    assert_clean(raw)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from([*FIELDS, "vehicle"]),
    value=json_values | st.text(alphabet="0123456789X -+０１", max_size=25),
    vehicle_field=st.sampled_from(list(CAR)),
    drop=st.booleans(),
)
def test_fuzz_one_field_of_a_valid_application(field, value, vehicle_field, drop):
    raw = application(vehicle=CAR)
    target = raw["vehicle"] if field == "vehicle" else raw
    name = vehicle_field if field == "vehicle" else field
    if drop:
        target.pop(name, None)
    else:
        target[name] = value
    assert_clean(raw)
