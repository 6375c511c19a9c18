"""The policy bundle as data: pydantic models of the YAML an analyst writes.

Structure only; meaning (names, types, reachability, overlaps) is checked in
:mod:`limitwise.policy.validate`, which turns a bundle into a :class:`~.model.Policy`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr


def _number_as_text(value: object) -> object:
    """Let YAML numbers stand for expressions (``by_pct: -50``); booleans stay booleans."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


#: An expression in the safe language (see :mod:`limitwise.policy.expr`).
ExprText = Annotated[str, BeforeValidator(_number_as_text)]


class Action(StrEnum):
    """Actions in rising severity: under ``collect`` the most severe matched action wins."""

    APPROVE = "approve"
    """Grant a new line (applications)."""
    INCREASE = "increase"
    """Raise an existing line."""
    KEEP = "keep"
    """Leave the line as it is."""
    DECREASE = "decrease"
    """Cut an existing line."""
    DECLINE = "decline"
    """Refuse an application."""
    FREEZE = "freeze"
    """Block new draws until the risk clears; the line is kept."""
    CLOSE = "close"
    """Close the line; outstanding debt is repaid on schedule."""


#: Severity code of each action (its position above); the batch plans carry this integer.
SEVERITY: dict[str, int] = {action.value: i for i, action in enumerate(Action)}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeatureSpec(Strict):
    type: Literal["int", "float", "bool", "enum", "money"]
    description: str = ""
    values: list[str] | None = None
    min: float | None = None
    max: float | None = None


class VariableSpec(Strict):
    type: Literal["int", "float", "bool", "enum", "money"]
    default: int | float | bool | str
    description: str = ""
    values: list[str] | None = None


class ReasonText(Strict):
    en: str = ""
    zh: str = ""


class LineOp(Strict):
    """How an outcome moves the line: to an amount, by an amount, or by a percentage."""

    to: ExprText | None = None
    by_fen: ExprText | None = None
    by_pct: ExprText | None = None


class Outcome(Strict):
    action: Action | None = None
    reasons: list[str] = Field(default_factory=list)
    notice: str | None = None
    line: LineOp | None = None
    set: dict[str, ExprText] = Field(default_factory=dict)
    stop: bool = False


class Rule(Strict):
    id: str
    when: str | bool
    then: Outcome
    description: str = ""


class TableRow(Strict):
    id: str
    when: list[str | int | float | bool]
    then: Outcome


class ScorecardRef(Strict):
    key: str
    version: str | int


class Axis(Strict):
    """A matrix axis: an input expression cut at ascending breakpoints (band i is
    ``breaks[i-1] <= x < breaks[i]``; n breakpoints make n + 1 bands)."""

    input: ExprText
    breaks: list[int | float]
    labels: list[str] | None = None


class NodeBase(Strict):
    id: str
    description: str = ""
    when: str | None = None


class ExpressionNode(NodeBase):
    kind: Literal["expression"]
    assign: dict[str, ExprText]


class RulesetNode(NodeBase):
    kind: Literal["ruleset"]
    hit: Literal["first", "collect"]
    rules: list[Rule]


class TableNode(NodeBase):
    kind: Literal["table"]
    hit: Literal["first", "collect", "unique"]
    inputs: list[str]
    rows: list[TableRow]


class MatrixNode(NodeBase):
    kind: Literal["matrix"]
    rows: Axis
    columns: Axis
    values: list[list[int | float | str]]
    unit: Literal["number", "yuan"] = "number"
    assign: str


class ScorecardNode(NodeBase):
    kind: Literal["scorecard"]
    scorecard: ScorecardRef
    score: str
    assign: str


Node = Annotated[
    ExpressionNode | RulesetNode | TableNode | MatrixNode | ScorecardNode,
    Field(discriminator="kind"),
]


class LineSpec(Strict):
    current: str
    """The feature holding the account's current line in fen (0 for applicants)."""
    step_fen: int = Field(gt=0)
    min_fen: int = Field(default=0, ge=0)
    max_fen: int = Field(gt=0)


class Outputs(Strict):
    sub_lines: dict[str, str] = Field(default_factory=dict)


class Bundle(Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    version: str = Field(min_length=1, max_length=32)
    description: str = ""
    default_action: Action = Action.KEEP
    line: LineSpec
    features: dict[str, FeatureSpec]
    variables: dict[str, VariableSpec] = Field(default_factory=dict)
    reasons: dict[str, ReasonText] = Field(default_factory=dict)
    nodes: list[Node]
    outputs: Outputs = Field(default_factory=Outputs)


class PolicyVersionView(BaseModel):
    """A published version as the CLI and API show it."""

    model_config = ConfigDict(frozen=True)

    policy_key: str
    version: str
    content_hash: str
    description: str
    published_at: dt.datetime
    published_by: str
    active: bool


#: Characters of policy YAML a request may carry: even at six bytes a character (a JSON
#: ``\u0001`` escape) it stays under the default body limit, so an over-long source is
#: refused by this rule (422), never by the body limit (413).
MAX_POLICY_SOURCE_CHARS = 100_000


class PolicyPublish(BaseModel):
    """A policy bundle to publish, as YAML text (what ``limitwise policy publish`` reads)."""

    model_config = ConfigDict(extra="forbid")

    source_yaml: Annotated[StrictStr, Field(min_length=1, max_length=MAX_POLICY_SOURCE_CHARS)]


class PolicyPublished(BaseModel):
    version: PolicyVersionView
    created: bool = Field(description="False: the same content was already published")


class PolicyChangeRead(BaseModel):
    path: str
    kind: Literal["added", "removed", "changed", "moved"]
    before: Any = None
    after: Any = None
