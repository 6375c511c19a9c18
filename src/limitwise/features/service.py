"""The features domain's service: the policy's features for an applicant, for one account
or for the whole book, as of a business date. Never commits.

The whole-book path (:func:`book_features`) and the one-account path
(:meth:`PolicyFeatures.account`) read the same statements — the latter with one more
``WHERE`` — and run the same plan (:func:`limitwise.features.definitions.plan`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from limitwise.features import repository
from limitwise.features.applicant import SCORE_BOUNDS, applicant_values, scorecard_inputs
from limitwise.features.definitions import CARRIED, SCHEMAS, Sources, plan
from limitwise.features.models import MacroFact
from limitwise.kit.clock import Clock
from limitwise.kit.errors import InvalidInput, NotFound
from limitwise.lines.inputs import FeatureRow
from limitwise.onboarding.schemas import ApplicationOutcome
from limitwise.scoring import service as scoring
from limitwise.scoring.schemas import Purpose, Scorecard
from limitwise.scoring.serve import score_frame, score_row
from limitwise.servicing.service import parse_product

#: Every feature this domain computes, for applicants and existing lines alike.
FEATURES = frozenset(
    {
        "segment",
        "product",
        "age_years",
        "kyc_verified",
        "fraud_flag",
        "app_score",
        "behaviour_score",
        "bureau_score",
        "verified_income_monthly_fen",
        "vehicle_value_fen",
        "dpd_now",
        "dpd_max_3m",
        "dpd_max_12m",
        "on_time_streak_months",
        "utilisation_now",
        "utilisation_avg_6m",
        "draws_last_7d",
        "months_since_last_activity",
        "months_since_last_line_change",
        "early_payoff_count_12m",
        "device_anomaly",
        "login_anomaly",
        "multi_lender_count",
        "current_line_fen",
        "risk_appetite",
    }
)
#: Behaviour scorecard input → the book column it is computed as.
BEHAVIOUR_INPUTS = {
    "utilisation_now": "utilisation_now",
    "utilisation_avg_6m": "utilisation_avg_6m",
    "on_time_streak_months": "on_time_streak_months",
    "days_past_due_max_12m": "dpd_max_12m",
    "draws_last_30d": "draws_last_30d",
    "months_active": "months_active",
    "early_payoff_count": "early_payoff_count",
}
BOOK_COLUMNS = ("account_id", "ref", "has_application", *sorted(FEATURES))


class UnknownFeatures(InvalidInput):
    """A policy reads features this domain cannot compute."""


def check_policy(policy: str, features: Iterable[str]) -> None:
    """Refuse a policy that reads a feature this domain cannot compute, naming each."""
    unknown = sorted(set(features) - FEATURES)
    if unknown:
        raise UnknownFeatures(
            f"policy {policy} reads features the features domain cannot compute: "
            + ", ".join(unknown),
            field="features",
            code="feature_unknown",
        )


# --- the book --------------------------------------------------------------------------------


def _frame(session: Session, stmt: Any, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The statement's rows as a frame: bulk CSV where the database offers it, else rows."""
    csv = repository.copy_csv(session, stmt)
    if csv is None:
        return pl.DataFrame(repository.fetch(session, stmt), schema=schema, orient="row")
    return pl.read_csv(csv, has_header=False, new_columns=list(schema), schema=schema)


def load_sources(session: Session, *, as_of: dt.date, account_id: int | None = None) -> Sources:
    """Read every row the definitions need, as of ``as_of`` (one account, or the book)."""
    frames = {
        name: _frame(session, stmt, SCHEMAS[name])
        for name, stmt in repository.source_queries(as_of, account_id).items()
    }
    frames["products"] = pl.DataFrame(
        [
            (product_id, parse_product(definition).grace_days)
            for product_id, definition in repository.product_definitions(session).items()
        ],
        schema=SCHEMAS["products"],
        orient="row",
    )
    return Sources(frames, repository.macro_as_of(session, as_of))


def score_behaviour(frame: pl.DataFrame, card: Scorecard) -> pl.DataFrame:
    """Add ``behaviour_score``: the behaviour scorecard's points, kept in the policy's
    300-900 range, from the book columns."""
    inputs = frame.select(pl.col(column).alias(name) for name, column in BEHAVIOUR_INPUTS.items())
    points = score_frame(card, inputs)["score"].cast(pl.Int64).clip(*SCORE_BOUNDS)
    return frame.with_columns(points.alias("behaviour_score"))


def build(sources: Sources, *, as_of: dt.date, card: Scorecard) -> pl.DataFrame:
    """The plan run and scored: one row of :data:`BOOK_COLUMNS` per account."""
    frame = plan(sources, as_of).collect()
    return score_behaviour(frame, card).select(BOOK_COLUMNS).sort("account_id")


def book_features(
    session: Session, *, as_of: dt.date, account_id: int | None = None
) -> pl.DataFrame:
    """Every account's features as of ``as_of``, set-based (or one account's, the same way)."""
    card = scoring.live_scorecard(session, purpose=Purpose.BEHAVIOUR)
    return build(load_sources(session, as_of=as_of, account_id=account_id), as_of=as_of, card=card)


def record_macro(
    session: Session, clock: Clock, *, risk_appetite: Decimal, as_of: dt.date | None = None
) -> None:
    """Store the risk-appetite factor in force from ``as_of`` (default: the business date)."""
    repository.add_macro(
        session,
        MacroFact(
            as_of=as_of or clock.today(),
            risk_appetite=str(risk_appetite),
            recorded_at=clock.now(),
        ),
    )


def _behaviour_points(card: Scorecard, row: dict[str, Any]) -> int:
    """One row scored by the scalar serving path (the scoring domain proves it equal to
    :func:`score_frame`; the property tests prove the features equal either way)."""
    inputs = {name: row[column] for name, column in BEHAVIOUR_INPUTS.items()}
    return max(SCORE_BOUNDS[0], min(SCORE_BOUNDS[1], score_row(card, inputs).score))


# --- the line service's feature source -------------------------------------------------------


class PolicyFeatures:
    """A :class:`~limitwise.lines.inputs.FeatureSource` over the facts and the book."""

    def check(self, policy: str, features: Iterable[str]) -> None:
        check_policy(policy, features)

    def applicant(
        self, session: Session, *, outcome: ApplicationOutcome, as_of: dt.date
    ) -> FeatureRow:
        facts = outcome.facts
        assert facts is not None  # pending_decision always carries its facts
        bureau = facts.bureau.facts if facts.bureau.usable else None
        income = facts.income.facts if facts.income.usable else None
        inputs = scorecard_inputs(facts, bureau, income)
        card = scoring.live_scorecard(session, purpose=Purpose.APPLICATION)
        points = max(SCORE_BOUNDS[0], min(SCORE_BOUNDS[1], score_row(card, inputs).score))
        macro = repository.macro_as_of(session, as_of)
        values, missing = applicant_values(
            facts, app_score=points, risk_appetite=None if macro is None else float(macro)
        )
        missing += [f"app_score.{name}" for name, value in inputs.items() if value is None]
        return FeatureRow(values, tuple(missing), {card.version: points})

    def account(self, session: Session, *, ref: str, as_of: dt.date) -> FeatureRow:
        account_id = repository.account_id_of(session, ref)
        if account_id is None:
            raise NotFound(f"no credit account {ref!r}", field="account")
        card = scoring.live_scorecard(session, purpose=Purpose.BEHAVIOUR)
        frame = plan(load_sources(session, as_of=as_of, account_id=account_id), as_of).collect()
        if frame.is_empty():
            raise NotFound(f"credit account {ref} was not open on {as_of}", field="as_of")
        row = frame.row(0, named=True)
        points = _behaviour_points(card, row)
        values = {name: row[name] for name in FEATURES - {"behaviour_score"}}
        values["behaviour_score"] = points
        missing = () if row["has_application"] else tuple(f"application.{n}" for n in CARRIED)
        return FeatureRow(values, missing, {card.version: points})
