"""The line service's configuration: caps, notice and stability guards, with defaults.

The policy proposes a line; these rules decide what of it is applied and when. Every field
has a documented default (docs/line-management.md); ``LIMITWISE_LINE_RULES_PATH`` may name a
JSON file that overrides any of them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from limitwise.kit.errors import InvalidRequest, Problem
from limitwise.kit.settings import Settings, get_settings


class LineRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Sum of one person's lines across every product (the internet-loan rule): ¥200,000.
    per_customer_cap_fen: int = Field(default=200_000_00, ge=0)
    #: A line is at most this many months of verified monthly income (when it is known).
    income_cap_months: Decimal = Field(default=Decimal(12), gt=0)
    #: Days of advance notice before a non-urgent decrease or closure takes effect.
    notice_days: int = Field(default=7, ge=0, le=90)
    #: Days past due above which a cut, freeze or closure acts at once (severe risk).
    severe_dpd: int = Field(default=30, ge=0)
    #: Reason codes that are severe whatever the days past due (confirmed fraud).
    severe_reasons: tuple[str, ...] = ("FRAUD",)
    #: No non-severe change within this many days of the last applied change.
    cool_down_days: int = Field(default=30, ge=0)
    #: One late payment of at most this many days, cured (nothing overdue now), never cuts.
    minor_late_max_dpd: int = Field(default=3, ge=0)
    #: Reason codes that only say "paid late" (the minor-late guard looks at these).
    lateness_reasons: tuple[str, ...] = ("DPD_NOW", "DPD_RECENT", "DPD_HISTORY")
    #: A change against the direction of the last one must move the line at least this
    #: share of it (hysteresis: small see-saws between the raise and cut rules are held).
    hysteresis_pct: int = Field(default=10, ge=0, le=100)
    #: One increase raises the line at most this share of it, or ``increase_floor_fen``.
    max_increase_pct: int = Field(default=100, ge=0)
    increase_floor_fen: int = Field(default=5_000_00, ge=0)
    #: At most this many increases per cycle of ``cycle_days`` days.
    max_increases_per_cycle: int = Field(default=1, ge=0)
    cycle_days: int = Field(default=90, ge=1)


def load_rules(path: Path) -> LineRules:
    """Read a rules file; every broken rule is reported with its field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LineRules.model_validate(data)
    except (OSError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            problems = [
                Problem(".".join(str(p) for p in e["loc"]) or "rules", e["type"], e["msg"])
                for e in exc.errors()
            ]
        else:
            problems = [Problem(str(path), "readable_json", f"cannot read line rules: {exc}")]
        raise InvalidRequest(problems=problems) from None


def rules_from_settings(settings: Settings | None = None) -> LineRules:
    settings = settings or get_settings()
    if settings.line_rules_path:
        return load_rules(Path(settings.line_rules_path))
    return LineRules()
