from __future__ import annotations

from pathlib import Path

import pytest

from limitwise.policy.compiled import Policy
from limitwise.policy.validate import load_file

POLICIES = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture(scope="session")
def default_policy() -> Policy:
    return load_file(POLICIES / "default.yaml")
