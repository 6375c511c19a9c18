"""What a fresh database needs to decide applications: the two shipped products, the
default line policy and the default application and behaviour scorecards, published.

:func:`install_defaults` is idempotent; ``limitwise init`` (and ``limitwise apply`` on a
database that has no live policy yet) runs it, so the README's tour needs no manual
publishing. A database that already has a live policy or scorecard keeps its own.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from limitwise.kit.clock import Clock
from limitwise.kit.errors import NotFound
from limitwise.lines.service import DEFAULT_PRODUCTS
from limitwise.policy import service as policy_service
from limitwise.scoring import service as scoring_service
from limitwise.scoring.artifact import default_scorecard
from limitwise.scoring.schemas import Purpose
from limitwise.servicing import service as servicing
from limitwise.servicing.schemas import ProductSpec

PACKAGE_DIR = Path(__file__).resolve().parent.parent
#: An installed wheel carries the policies inside the package; a source checkout has them
#: at the repository root.
POLICY_DIRS = (PACKAGE_DIR / "policies", PACKAGE_DIR.parent.parent / "policies")
DEFAULT_POLICY_FILE = "default.yaml"
PUBLISHER = "limitwise-init"

_COMMON = {
    "min_line": "1000.00",
    "max_line": "300000.00",
    "repayment_types": ["daily", "equal_installment", "equal_principal", "interest_first"],
    "terms_months": [3, 6, 12],
}
PRODUCTS = [
    ProductSpec.parse(_COMMON | {"name": DEFAULT_PRODUCTS["standard"], "daily_rate_bps": "4.0"}),
    ProductSpec.parse(_COMMON | {"name": DEFAULT_PRODUCTS["car_owner"], "daily_rate_bps": "3.5"}),
]


def shipped_policy_path() -> Path:
    for folder in POLICY_DIRS:
        path = folder / DEFAULT_POLICY_FILE
        if path.is_file():
            return path
    raise NotFound(f"the shipped policy {DEFAULT_POLICY_FILE} is not installed", field="policy")


def install_defaults(session: Session, clock: Clock, *, policy_key: str) -> list[str]:
    """Define the products and publish what is not live yet; returns what was installed."""
    installed = []
    for spec in PRODUCTS:
        if servicing.find_product(session, spec.name) is None:
            servicing.define_product(session, clock, spec=spec)
            installed.append(f"product {spec.name}")
    if not policy_service.list_versions(session, policy_key=policy_key):
        path = shipped_policy_path()
        view, _ = policy_service.publish(
            session,
            clock,
            source_yaml=path.read_text(encoding="utf-8"),
            source_name=str(path),
            published_by=PUBLISHER,
        )
        installed.append(f"policy {view.policy_key}@{view.version}")
    for purpose in Purpose:
        try:
            scoring_service.live_entry(session, purpose=purpose)
        except NotFound:
            card = default_scorecard(purpose)
            scoring_service.register_scorecard(
                session, clock=clock, scorecard=card, registered_by=PUBLISHER
            )
            scoring_service.publish_scorecard(
                session, clock=clock, version=card.version, published_by=PUBLISHER
            )
            installed.append(f"scorecard {purpose.value} {card.version}")
    return installed
