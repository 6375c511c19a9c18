"""Macro index (e.g. manufacturing PMI) mapped by policy bands to a risk-appetite factor.

No personal data is involved, so no consent is needed. Bands are read top-down: the first
band whose ``at_least`` the value reaches gives the factor (1.00 = neutral appetite).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from limitwise.kit.clock import Clock
from limitwise.providers.base import RecordSource, SourceRecord, obtain
from limitwise.providers.schemas import MacroFacts, ProviderKind, ProviderResult


class RiskAppetiteBand(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at_least: Decimal
    factor: Decimal = Field(gt=0, le=2)


class MacroPolicy(BaseModel):
    """Which index to read and how its value maps to a factor (highest band first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: str = "pmi"
    bands: tuple[RiskAppetiteBand, ...] = (
        RiskAppetiteBand(at_least=Decimal("52"), factor=Decimal("1.10")),
        RiskAppetiteBand(at_least=Decimal("50"), factor=Decimal("1.00")),
        RiskAppetiteBand(at_least=Decimal("48"), factor=Decimal("0.90")),
    )
    #: Factor when the value is below every band.
    factor_below_bands: Decimal = Field(default=Decimal("0.80"), gt=0, le=2)

    def factor_for(self, value: Decimal) -> Decimal:
        for band in sorted(self.bands, key=lambda b: b.at_least, reverse=True):
            if value >= band.at_least:
                return band.factor
        return self.factor_below_bands


class MacroRecord(SourceRecord):
    index: str
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    value: Decimal = Field(ge=-1000, le=1000)


def latest_index(
    source: RecordSource, *, clock: Clock, policy: MacroPolicy, max_age_days: int | None
) -> ProviderResult[MacroFacts]:
    query = {"index": policy.index, "business_date": clock.today().isoformat()}
    return obtain(
        ProviderKind.MACRO,
        source,
        query,
        clock,
        schema=MacroRecord,
        interpret=lambda r: MacroFacts(
            index_name=r.index,
            period=r.period,
            value=r.value,
            risk_appetite_factor=policy.factor_for(r.value),
        ),
        contradiction=lambda r: (
            f"answered index {r.index!r}, asked {policy.index!r}"
            if r.index != policy.index
            else None
        ),
        max_age_days=max_age_days,
    )
