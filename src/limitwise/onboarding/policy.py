"""The onboarding policy as data: eligibility, consents, data freshness, valuation, macro.

The packaged default is legal age (18), real-name verified, bank card in the applicant's own
name, consent to identity verification and the bureau query. A JSON file named by
``LIMITWISE_ELIGIBILITY_POLICY_PATH`` replaces it; a bad file is refused field by field.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from limitwise.kit.errors import InvalidRequest, Problem
from limitwise.kit.settings import Settings, get_settings
from limitwise.providers.macro import MacroPolicy
from limitwise.providers.schemas import PURPOSE_OF_KIND, ConsentPurpose, ProviderKind
from limitwise.providers.vehicle import DepreciationCurve

CURRENT_CONSENT_TEXT_VERSION = "2026.1"
CURRENT_CONSENT_TEXTS: tuple[str, ...] = (CURRENT_CONSENT_TEXT_VERSION,)


class OnboardingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = "onboarding-default-2026.1"
    #: Legal capacity to contract (not a credit rule: who may be lent to at all is the line
    #: policy's, e.g. the default policy's 22-55). Below it no data about the person is
    #: gathered.
    legal_age_years: int = Field(default=18, ge=16, le=25)
    require_real_name_verified: bool = True
    require_card_in_own_name: bool = True
    require_mobile_in_own_name: bool = False
    #: Decline when other people applied with the same bank card / mobile (fraud rings).
    decline_card_used_by_others: bool = True
    decline_mobile_used_by_others: bool = True
    #: Only applicants on the invitation (pre-approved) list may apply.
    require_invitation: bool = False
    #: Without these consents the application is declined before any provider is called.
    required_consents: tuple[ConsentPurpose, ...] = (
        ConsentPurpose.IDENTITY_VERIFICATION,
        ConsentPurpose.BUREAU_QUERY,
    )
    #: Consent texts the applicant may have agreed to, by purpose.
    consent_text_versions: dict[ConsentPurpose, tuple[str, ...]] = Field(
        default_factory=lambda: dict.fromkeys(ConsentPurpose, CURRENT_CONSENT_TEXTS)
    )
    #: A consent older than this (by business date) no longer counts.
    consent_max_age_days: int = Field(default=30, ge=0)
    #: Without usable data from these providers no decision can be made: ``incomplete``.
    required_data: tuple[ProviderKind, ...] = (ProviderKind.BUREAU,)
    #: Records older than this are ``stale`` (None: never stale).
    max_data_age_days: dict[ProviderKind, int | None] = Field(
        default_factory=lambda: {
            ProviderKind.REALNAME: None,
            ProviderKind.BUREAU: 31,
            ProviderKind.INCOME: 62,
            ProviderKind.VEHICLE: 400,
            ProviderKind.MACRO: 93,
        }
    )
    vehicle_depreciation: DepreciationCurve = DepreciationCurve()
    macro: MacroPolicy = MacroPolicy()

    @model_validator(mode="after")
    def _coherent(self) -> OnboardingPolicy:
        needs_identity = self.require_real_name_verified or self.require_card_in_own_name
        if needs_identity and ConsentPurpose.IDENTITY_VERIFICATION not in self.required_consents:
            raise ValueError("real-name checks need identity_verification in required_consents")
        for kind in self.required_data:
            purpose = PURPOSE_OF_KIND.get(kind)
            if purpose is not None and purpose not in self.required_consents:
                raise ValueError(f"required data {kind.value} needs {purpose.value} consent")
        return self

    def max_age_days(self, kind: ProviderKind) -> int | None:
        return self.max_data_age_days.get(kind)


def load_policy(path: Path) -> OnboardingPolicy:
    """Read a policy file; every broken rule is reported with its field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidRequest(
            problems=[Problem(str(path), "readable_json", f"cannot read policy: {exc}")]
        ) from None
    try:
        return OnboardingPolicy.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(
            problems=[
                Problem(".".join(str(p) for p in e["loc"]) or "policy", e["type"], e["msg"])
                for e in exc.errors()
            ]
        ) from None


def policy_from_settings(settings: Settings | None = None) -> OnboardingPolicy:
    settings = settings or get_settings()
    if settings.eligibility_policy_path:
        return load_policy(Path(settings.eligibility_policy_path))
    return OnboardingPolicy()
