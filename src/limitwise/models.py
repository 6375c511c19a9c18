"""Imports every domain's tables so ``Base.metadata`` is complete (for Alembic and tests)."""

from limitwise.ledger import models as ledger_models
from limitwise.policy import models as policy_models

__all__ = ["ledger_models", "policy_models"]
