"""The frozen scorecard artifact and the training configuration.

The artifact is plain JSON validated by these models, so a scorecard trained today can be
served anywhere without the training stack, and a damaged file is refused with a clear error.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: The least ``min_segment_rows`` may be: fewer rows make no card worth routing to.
MIN_SEGMENT_ROWS = 200
#: Most terms (characteristics and interactions) one card may hold: serving keeps a per-row
#: bit mask of missing terms in an Int64.
MAX_TERMS = 60
ArtifactFormat = Literal["limitwise.scorecard/1"]
ARTIFACT_FORMAT: ArtifactFormat = "limitwise.scorecard/1"


class Purpose(StrEnum):
    APPLICATION = "application"
    """Scores an applicant from application and bureau data, before a line exists."""
    BEHAVIOUR = "behaviour"
    """Scores an open account from how it has been used and repaid."""


class Scaling(BaseModel):
    """Points scaling: ``base_score`` points at odds ``base_odds``:1 (good:bad); every
    ``pdo`` points double the odds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_score: float = 600.0
    base_odds: float = Field(default=50.0, gt=0)
    pdo: float = Field(default=20.0, gt=0)


class ReasonText(BaseModel):
    """What a borrower reads when this characteristic cost them points."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    en: str
    zh: str


class DerivedColumn(BaseModel):
    """A characteristic computed from other numeric columns before binning and scoring.

    ``sum`` and ``product`` combine two or more columns left to right; ``ratio`` divides the
    first by the second (a zero divisor gives missing) and ``difference`` subtracts the second
    from the first; ``count_positive`` counts the columns above zero (months late among
    monthly status columns); ``slope`` is the least-squares slope of the columns taken as a
    series at steps 0, 1, 2, ... (a trend). Any missing input gives missing.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    op: Literal["sum", "product", "ratio", "difference", "count_positive", "slope"]
    columns: list[str] = Field(min_length=2)

    @model_validator(mode="after")
    def _pair_ops_have_two_columns(self) -> DerivedColumn:
        if self.op in ("ratio", "difference") and len(self.columns) != 2:
            raise ValueError(f"derived column {self.name!r}: a {self.op} takes exactly two columns")
        return self


class Characteristic(BaseModel):
    """One scored input: its bins and the points each bin is worth.

    Numeric bins follow ``splits`` (ascending): a value ``x`` falls in bin ``i`` where ``i`` is
    the number of splits ``<= x`` (so bin 0 is ``x < splits[0]``). Categorical bins are groups
    of category strings. Missing values score ``points_missing``; a category never seen in
    training scores ``points_unknown`` (the population-average, WoE 0, points).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    code: str
    kind: Literal["numeric", "categorical"]
    label: ReasonText
    #: Why this characteristic cost points; ``reason_missing`` when the value was missing.
    reason: ReasonText
    reason_missing: ReasonText
    iv: float
    splits: list[float] = Field(default_factory=list)
    categories: list[list[str]] = Field(default_factory=list)
    bins: list[str]
    points: list[int]
    points_missing: int
    points_unknown: int
    event_rates: list[float] = Field(default_factory=list)

    @model_validator(mode="after")
    def _bins_match_points(self) -> Characteristic:
        expected = len(self.splits) + 1 if self.kind == "numeric" else len(self.categories)
        if len(self.points) != expected or len(self.bins) != expected:
            raise ValueError(
                f"characteristic {self.name!r}: {len(self.points)} points and "
                f"{len(self.bins)} bins for {expected} bins"
            )
        if self.splits != sorted(self.splits):
            raise ValueError(f"characteristic {self.name!r}: splits must be ascending")
        return self

    @property
    def points_best(self) -> int:
        """The most points any value of this characteristic can earn."""
        return max(*self.points, self.points_missing, self.points_unknown)


class Axis(BaseModel):
    """One input of a pairwise points table and how its values fall into the table's rows.

    Index 0 is missing, then the bins (numeric: ``i + 1`` where ``i`` is the number of
    ``splits <= x``; categorical: the group holding the category), and the last index is a
    category never seen in training (unused by a numeric axis).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: Literal["numeric", "categorical"]
    splits: list[float] = Field(default_factory=list)
    categories: list[list[str]] = Field(default_factory=list)

    @property
    def size(self) -> int:
        """Rows of the table along this axis: missing, the bins, unknown."""
        return (len(self.splits) + 1 if self.kind == "numeric" else len(self.categories)) + 2

    @model_validator(mode="after")
    def _splits_ascending(self) -> Axis:
        if self.splits != sorted(self.splits):
            raise ValueError(f"axis {self.name!r}: splits must be ascending")
        return self


class Interaction(BaseModel):
    """A pairwise term: points looked up in a 2-D table by the bins of two inputs.

    ``points[i][j]`` is earned by a row whose first input falls in index ``i`` of
    ``axes[0]`` and whose second input falls in index ``j`` of ``axes[1]`` (see :class:`Axis`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    code: str
    label: ReasonText
    reason: ReasonText
    #: Used when either input was missing.
    reason_missing: ReasonText
    importance: float
    axes: list[Axis] = Field(min_length=2, max_length=2)
    points: list[list[int]]

    @model_validator(mode="after")
    def _table_matches_axes(self) -> Interaction:
        rows, columns = (axis.size for axis in self.axes)
        if len(self.points) != rows or any(len(row) != columns for row in self.points):
            raise ValueError(
                f"interaction {self.name!r}: the points table must be {rows}x{columns}"
            )
        return self

    @property
    def points_best(self) -> int:
        return max(max(row) for row in self.points)


class ScoreDistribution(BaseModel):
    """The training scores' distribution over fixed bands: the PSI baseline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    edges: list[float]
    proportions: list[float]


class TrainingSummary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    data_sha256: str
    rows: int
    bad_rate: float
    target: str
    bad_values: list[str]
    id_column: str | None
    dropped: dict[str, str]
    score_distribution: ScoreDistribution
    #: The model family trained, and each family's cross-validated AUC when "auto" chose.
    family: Literal["scorecard", "interactions"] = "scorecard"
    cv_auc: dict[str, float] = Field(default_factory=dict)
    #: With a declared or searched segment column: the cross-validated AUC of the pooled card
    #: ("pooled") and of the segmented cards per column ("segmented by COLUMN"); the artifact
    #: keeps the highest.
    segment_cv_auc: dict[str, float] = Field(default_factory=dict)
    #: A segment's card blended with the pooled card: the pooled card's share of its points.
    pooled_weight: float = Field(default=0.0, ge=0, lt=1)


class Metrics(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    auc: float
    ks: float
    gini: float
    #: Where they were measured: the training rows, a held-out share, or the mean of folds.
    sample: Literal["training", "holdout", "cross-validation"] = "training"


class Segment(BaseModel):
    """One segment's own card: rows whose segment value is in ``values`` are scored by it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    values: list[str] = Field(min_length=1)
    scorecard: Scorecard


class Scorecard(BaseModel):
    """A frozen, versioned scorecard: everything serving needs, nothing it does not.

    A segmented artifact names its ``segment_column`` and holds one card per large segment
    in ``segments``; its own terms are the pooled card, which scores every other row (an
    unseen or missing segment value, or a segment too small for a card of its own).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: ArtifactFormat = ARTIFACT_FORMAT
    name: str
    purpose: Purpose
    version: str
    trained_on: dt.date
    limitwise_version: str
    scaling: Scaling
    derived: list[DerivedColumn] = Field(default_factory=list)
    characteristics: list[Characteristic] = Field(min_length=1, max_length=MAX_TERMS)
    #: Pairwise points tables (interaction model); absent from scorecards without them.
    interactions: list[Interaction] = Field(default_factory=list)
    training: TrainingSummary
    metrics: Metrics
    segment_column: str | None = None
    segments: list[Segment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _segments_are_flat_and_disjoint(self) -> Scorecard:
        if bool(self.segment_column) != bool(self.segments):
            raise ValueError("segment_column and segments go together")
        values = [value for segment in self.segments for value in segment.values]
        if len(set(values)) != len(values):
            raise ValueError("a segment value may route to one card only")
        if any(segment.scorecard.segments for segment in self.segments):
            raise ValueError("a segment's card cannot itself be segmented")
        return self

    @model_validator(mode="after")
    def _unique_names_and_codes(self) -> Scorecard:
        terms = [*self.characteristics, *self.interactions]
        for attribute in ("name", "code"):
            values = [getattr(t, attribute) for t in terms]
            if len(set(values)) != len(values):
                raise ValueError(f"characteristic {attribute}s must be unique")
        if len(terms) > MAX_TERMS:
            raise ValueError(f"at most {MAX_TERMS} characteristics and interactions together")
        return self

    def characteristic(self, name: str) -> Characteristic:
        for characteristic in self.characteristics:
            if characteristic.name == name:
                return characteristic
        raise KeyError(name)


Segment.model_rebuild()


class CharacteristicConfig(BaseModel):
    """Per-column training options (all optional)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["numeric", "categorical"] | None = None
    monotonic_trend: str | None = None
    label_en: str | None = None
    label_zh: str | None = None


class TrainingConfig(BaseModel):
    """Everything ``score train --config YAML`` can set; defaults suit most credit data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "scorecard"
    purpose: Purpose = Purpose.APPLICATION
    scaling: Scaling = Scaling()
    bad_values: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    #: Characteristics below this information value are dropped as too weak.
    min_iv: float = Field(default=0.02, ge=0)
    #: Of two characteristics whose WoE correlate above this, the weaker one is dropped.
    max_correlation: float = Field(default=0.8, gt=0, le=1)
    max_characteristics: int = Field(default=20, ge=1, le=60)
    #: optbinning trend for numeric characteristics unless a column overrides it:
    #: "auto_heuristic" picks ascending, descending, peak or valley from the data.
    monotonic_trend: str = "auto_heuristic"
    max_n_prebins: int = Field(default=30, ge=2)
    #: Smallest pre-bin (share of rows): small enough to split rare counts such as "late twice".
    min_prebin_size: float = Field(default=0.01, gt=0, lt=0.5)
    min_bin_size: float = Field(default=0.005, gt=0, lt=0.5)
    #: ... but never fewer rows than this in a (pre-)bin, so small data sets are not overfit.
    min_bin_rows: int = Field(default=50, ge=1)
    max_n_bins: int = Field(default=12, ge=2)
    #: Regularisation strength C of the WoE logistic regression.
    regularisation_c: float = Field(default=1.0, gt=0)
    columns: dict[str, CharacteristicConfig] = Field(default_factory=dict)
    derived: list[DerivedColumn] = Field(default_factory=list)
    #: "scorecard" (WoE logistic), "interactions" (EBM frozen into 1-D and 2-D points
    #: tables), or "auto": whichever has the higher cross-validated AUC.
    family: Literal["scorecard", "interactions", "auto"] = "scorecard"
    #: Folds of the cross-validation that "auto" chooses by.
    cv_folds: int = Field(default=3, ge=2, le=10)
    #: Pairwise terms the interaction model may add (0: additive only), never more than the
    #: card's 60 terms leave room for. 40 rather than 10 took HMEQ from 0.940 to 0.952
    #: (3-fold) and Lending Club from 0.679 to 0.685, German credit within noise.
    max_interactions: int = Field(default=40, ge=0, le=MAX_TERMS)
    #: The pairs the interaction model fits (each two column names) instead of detecting its
    #: own; a pair naming a column the data lacks is skipped. A blended segment card takes the
    #: pooled card's pairs, so the blend keeps within the card's term limit.
    interaction_pairs: list[tuple[str, str]] = Field(default_factory=list)
    #: Most bins per column of the interaction model (before equal-points bins merge).
    interaction_max_bins: int = Field(default=64, ge=4)
    #: Bagged fits the interaction model averages (more: smoother, slower).
    interaction_bags: int = Field(default=2, ge=1)
    #: Boosting learning rate of the interaction model (interpret's default 0.015 with 4 bags
    #: took 8.5x as long for 0.0035 more AUC on a 4,000-row HMEQ sample).
    interaction_learning_rate: float = Field(default=0.1, gt=0, le=1)
    #: Generate ratio / difference / count / trend candidates from the columns and keep the
    #: ones that add held-out information value.
    generate: bool = False
    #: Most generated characteristics kept.
    max_generated: int = Field(default=6, ge=0, le=20)
    #: Train one card per value of this column (plus the pooled card for everything else),
    #: kept only when the segmented cards cross-validate better than the pooled one.
    segment: str | None = None
    #: With no declared ``segment``: try the ``segment_candidates`` categorical columns of
    #: highest information value that have 2 to 4 values large enough for a card, and keep the
    #: one whose segmented cards cross-validate best, when that beats the pooled card. A card
    #: per segment holds interactions of the segment column with every pair (on HMEQ, REASON).
    segment_search: bool = False
    segment_candidates: int = Field(default=2, ge=1, le=10)
    #: The weights of a segment's own card against the pooled card that the segment search
    #: compares (1: the segment's card alone; 0.75: three quarters of it, a quarter of the
    #: pooled card, frozen into one card): a pooled prior for segments with fewer rows.
    segment_weights: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        default=[1.0, 0.75, 0.5], min_length=1
    )
    #: A segment needs this many rows, and ``min_segment_bads`` bad ones, for a card of its own.
    min_segment_rows: int = Field(default=1000, ge=MIN_SEGMENT_ROWS)
    min_segment_bads: int = Field(default=100, ge=1)


class RegistryEntry(BaseModel):
    """A registered scorecard version and its publication state."""

    model_config = ConfigDict(frozen=True)

    version: str
    purpose: str
    artifact_sha256: str
    registered_by: str
    registered_at: dt.datetime
    live: bool
    published_by: str | None
    published_at: dt.datetime | None
