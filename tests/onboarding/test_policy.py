import json

import pytest

from limitwise.kit.errors import InvalidInput, InvalidRequest
from limitwise.kit.settings import Settings
from limitwise.onboarding.policy import OnboardingPolicy, load_policy, policy_from_settings
from limitwise.providers.registry import sources_from_settings
from limitwise.providers.schemas import ConsentPurpose, ProviderKind


def test_default_policy_is_the_documented_one():
    policy = policy_from_settings(Settings(eligibility_policy_path=""))
    assert policy.legal_age_years == 18
    assert policy.require_real_name_verified and policy.require_card_in_own_name
    assert policy.required_consents == (
        ConsentPurpose.IDENTITY_VERIFICATION,
        ConsentPurpose.BUREAU_QUERY,
    )
    assert policy.max_age_days(ProviderKind.BUREAU) == 31


def test_policy_file_overrides_and_bad_files_name_each_field(tmp_path):
    good = tmp_path / "policy.json"
    good.write_text(json.dumps({"version": "invite-only-1", "require_invitation": True}))
    policy = policy_from_settings(Settings(eligibility_policy_path=str(good)))
    assert policy.version == "invite-only-1" and policy.require_invitation
    assert policy.legal_age_years == OnboardingPolicy().legal_age_years

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"legal_age_years": "old", "colour": "red"}))
    with pytest.raises(InvalidRequest) as caught:
        load_policy(bad)
    assert {(p.field, p.rule) for p in caught.value.problems} == {
        ("legal_age_years", "int_parsing"),
        ("colour", "extra_forbidden"),
    }
    retired = tmp_path / "retired.json"
    retired.write_text(json.dumps({"age_max_years": 60}))  # credit ages live in the line policy
    with pytest.raises(InvalidRequest, match="age_max_years"):
        load_policy(retired)
    with pytest.raises(InvalidRequest, match="cannot read policy"):
        load_policy(tmp_path / "absent.json")


def test_provider_backend_is_checked():
    assert sources_from_settings(Settings(provider_backend="local")).bureau.name == (
        "local:bureau.csv"
    )
    assert sources_from_settings(Settings(provider_backend="http")).bureau.name == (
        "http:bureau/report"
    )
    with pytest.raises(InvalidInput, match="unknown provider backend"):
        sources_from_settings(Settings(provider_backend="carrier-pigeon"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"required_consents": ["bureau_query"]}, "real-name checks need identity_verification"),
        (
            {"required_data": ["bureau", "income"]},
            "required data income needs income_data consent",
        ),
    ],
)
def test_incoherent_policies_are_refused(tmp_path, fields, message):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(fields))
    with pytest.raises(InvalidRequest, match=message):
        load_policy(path)
