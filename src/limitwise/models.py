"""Imports every domain's tables so ``Base.metadata`` is complete (for Alembic and tests)."""

from limitwise.ledger import models as ledger_models
from limitwise.onboarding import models as onboarding_models
from limitwise.providers import models as provider_models

__all__ = ["ledger_models", "onboarding_models", "provider_models"]
