"""Imports every domain's tables so ``Base.metadata`` is complete (for Alembic and tests)."""

from limitwise.ledger import models as ledger_models
from limitwise.scoring import models as scoring_models

__all__ = ["ledger_models", "scoring_models"]
