"""What the line service needs from the features domain: the policy's features for one
applicant or one account, as of a business date, with the inputs that were missing.

``limitwise.features.service.PolicyFeatures`` implements this; tests may hand the service
fixed rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from limitwise.onboarding.schemas import ApplicationOutcome


@dataclass(frozen=True)
class FeatureRow:
    values: dict[str, Any]
    #: Inputs the features could not be computed from (scored as missing, recorded).
    missing: tuple[str, ...] = ()
    #: Points of every scorecard scored for this row, by ``key@version``.
    scores: dict[str, int] = field(default_factory=dict)


class FeatureSource(Protocol):
    def check(self, policy: str, features: Iterable[str]) -> None:
        """Refuse (naming them) features of ``policy`` this source cannot compute."""

    def applicant(
        self, session: Session, *, outcome: ApplicationOutcome, as_of: dt.date
    ) -> FeatureRow: ...

    def account(self, session: Session, *, ref: str, as_of: dt.date) -> FeatureRow: ...
