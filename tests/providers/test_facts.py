"""Local adapters and what the providers make of their records: facts and verdicts."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from limitwise.providers import bureau, income, macro, vehicle
from limitwise.providers.local import FileRecordSource, LocalVehicleSource
from limitwise.providers.macro import MacroPolicy, RiskAppetiteBand
from limitwise.providers.registry import SAMPLE_DATA_DIR, local_sources
from limitwise.providers.schemas import (
    ConsentGrant,
    ConsentPurpose,
    Quality,
    Subject,
    VehicleQuery,
)
from limitwise.providers.vehicle import DepreciationCurve
from tests.onboarding.factory import CAR_OWNER_ID, SALARIED_ID, sample_clock

SUBJECT = Subject("王小明", CAR_OWNER_ID, "+8613812345678", "6222021234567890128")


def grant(purpose: ConsentPurpose) -> ConsentGrant:
    return ConsentGrant(purpose, "cns_test", "2026.1")


def write_income(tmp_path, record):
    path = tmp_path / "income.json"
    path.write_text(json.dumps({"records": [{"resident_id": CAR_OWNER_ID, **record}]}))
    return FileRecordSource(path, key_field="resident_id", query_key="resident_id")


def ask_income(source, day=dt.date(2026, 11, 23)):
    return income.verify_income(
        source,
        subject=SUBJECT,
        grant=grant(ConsentPurpose.INCOME_DATA),
        clock=sample_clock(day),
        max_age_days=62,
    )


def salary(months, amount):
    return [{"month": f"2026-{m:02d}", "amount": amount} for m in months]


def test_income_from_salary_flow_and_housing_fund(tmp_path):
    result = ask_income(
        write_income(
            tmp_path,
            {
                "as_of": "2026-11-10",
                "salary_credits": salary(range(1, 11), "10000.00"),
                "housing_fund": {
                    "monthly_contribution": "2000.00",
                    "contribution_rate": "0.10",
                    "months_paid": 12,
                },
            },
        )
    )
    facts = result.facts
    assert result.quality is Quality.OK
    assert facts.salary_months == 6  # only the last six months count
    assert facts.housing_fund_implied_salary_fen == 1_000_000  # 2000 / (2 x 10%)
    assert facts.verified_monthly_income_fen == 1_000_000


def test_income_verdicts(tmp_path):
    disagree = ask_income(
        write_income(
            tmp_path,
            {
                "as_of": "2026-11-10",
                "salary_credits": salary(range(5, 11), "30000.00"),
                "housing_fund": {
                    "monthly_contribution": "1000.00",
                    "contribution_rate": "0.10",
                    "months_paid": 24,
                },
            },
        )
    )
    assert disagree.quality is Quality.INCONSISTENT
    assert disagree.reason == "salary flow and housing fund disagree by more than a factor of 2"
    thin = ask_income(
        write_income(tmp_path, {"as_of": "2026-11-10", "salary_credits": salary([9, 10], "9.00")})
    )
    assert thin.facts.verified_monthly_income_fen == 0
    assert thin.facts.method == "insufficient_history"
    bad_rate = ask_income(
        write_income(
            tmp_path,
            {
                "as_of": "2026-11-10",
                "housing_fund": {
                    "monthly_contribution": "1",
                    "contribution_rate": "0.5",
                    "months_paid": 9,
                },
            },
        )
    )
    assert bad_rate.quality is Quality.INCONSISTENT
    assert bad_rate.reason.startswith("invalid_record: housing_fund.contribution_rate")


def test_local_files_never_look_ahead_of_the_business_date():
    source = local_sources().bureau
    clock = sample_clock(dt.date(2026, 6, 1))
    result = bureau.report(
        source,
        subject=SUBJECT,
        grant=grant(ConsentPurpose.BUREAU_QUERY),
        clock=clock,
        max_age_days=31,
    )
    assert result.data_as_of == dt.date(2026, 5, 15) and result.facts.credit_score == 731


def test_unreadable_file_is_unavailable(tmp_path):
    broken = tmp_path / "bureau.json"
    broken.write_text("{not json")
    result = bureau.report(
        FileRecordSource(broken, key_field="resident_id", query_key="resident_id"),
        subject=SUBJECT,
        grant=grant(ConsentPurpose.BUREAU_QUERY),
        clock=sample_clock(),
        max_age_days=31,
    )
    assert result.quality is Quality.UNAVAILABLE
    assert result.reason == "unreadable_file: JSONDecodeError"


def test_depreciation_curve():
    curve = DepreciationCurve()
    assert curve.retained(0) == Decimal("1.00")
    assert curve.retained(6) == Decimal("0.41")
    assert curve.retained(8) == Decimal("0.32")  # 0.36 - one year past the table
    assert curve.retained(40) == Decimal("0.10")  # the floor
    assert curve.mileage_factor(2, 30_000) == 1  # exactly the expected mileage
    assert curve.mileage_factor(2, 80_000) == Decimal("0.90")
    assert curve.mileage_factor(1, 900_000) == Decimal("0.70")  # bounded below
    assert curve.mileage_factor(10, 0) == Decimal("1.05")  # bounded above


def value(vin="LSVAM4187L2184847", model="Volkswagen Lavida 1.5L", year=2020, mileage=None):
    query = VehicleQuery(vin, "京A12345", model, year, 11_800_000, mileage)
    return vehicle.check_and_value(
        LocalVehicleSource(
            SAMPLE_DATA_DIR / "vehicles.csv", SAMPLE_DATA_DIR / "vehicle_prices.csv"
        ),
        subject=SUBJECT,
        vehicle=query,
        grant=grant(ConsentPurpose.VEHICLE_DATA),
        clock=sample_clock(),
        curve=DepreciationCurve(),
        max_age_days=400,
    )


def test_vehicle_declared_facts_that_disagree_lower_confidence():
    result = value(model="Volkswagen Lavida 1.6L", year=2019)
    facts = result.facts
    assert facts.ownership_match and facts.model == "Volkswagen Lavida 1.5L"
    assert facts.confidence == Decimal("0.70")
    assert facts.confidence_notes == (
        "declared model differs from the registry",
        "declared registration year differs from the registry",
    )


def test_vehicle_not_owned_or_unknown():
    other = SUBJECT.__class__("李娜", SALARIED_ID, "+8613912345678", "6217001234567890122")
    result = vehicle.check_and_value(
        local_sources().vehicle,
        subject=other,
        vehicle=VehicleQuery("LSVAM4187L2184847", "京A12345", "x", 2020, 100, None),
        grant=grant(ConsentPurpose.VEHICLE_DATA),
        clock=sample_clock(),
        curve=DepreciationCurve(),
        max_age_days=400,
    )
    assert result.facts.ownership_match is False
    unknown = value(vin="LGBH52E05K1234567")
    assert unknown.quality is Quality.MISSING and unknown.reason == "no_record"


def test_macro_bands_map_the_index_to_a_risk_appetite_factor():
    policy = MacroPolicy()
    assert [policy.factor_for(Decimal(v)) for v in ("53", "50.0", "49.9", "47")] == [
        Decimal("1.10"),
        Decimal("1.00"),
        Decimal("0.90"),
        Decimal("0.80"),
    ]
    unemployment = MacroPolicy(
        index="unemployment",
        bands=(RiskAppetiteBand(at_least=Decimal("5.5"), factor=Decimal("0.85")),),
        factor_below_bands=Decimal("1.00"),
    )
    result = macro.latest_index(
        local_sources().macro, clock=sample_clock(), policy=unemployment, max_age_days=93
    )
    assert result.quality is Quality.OK
    assert (result.facts.value, result.facts.risk_appetite_factor) == (Decimal("5.1"), 1)


@pytest.mark.parametrize(
    ("day", "quality"), [(dt.date(2026, 11, 23), Quality.OK), (dt.date(2027, 6, 1), Quality.STALE)]
)
def test_macro_freshness(day, quality):
    result = macro.latest_index(
        local_sources().macro, clock=sample_clock(day), policy=MacroPolicy(), max_age_days=93
    )
    assert result.quality is quality and result.facts.period == "2026-10"
