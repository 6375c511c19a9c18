"""Imports every domain's tables so ``Base.metadata`` is complete (for Alembic and tests)."""

from limitwise.audit import models as audit_models
from limitwise.auth import models as auth_models
from limitwise.businessdate import models as businessdate_models
from limitwise.features import models as features_models
from limitwise.ledger import models as ledger_models
from limitwise.lines import models as lines_models
from limitwise.onboarding import models as onboarding_models
from limitwise.policy import models as policy_models
from limitwise.providers import models as provider_models
from limitwise.scoring import models as scoring_models
from limitwise.servicing import models as servicing_models

__all__ = [
    "audit_models",
    "auth_models",
    "businessdate_models",
    "features_models",
    "ledger_models",
    "lines_models",
    "onboarding_models",
    "policy_models",
    "provider_models",
    "scoring_models",
    "servicing_models",
]
