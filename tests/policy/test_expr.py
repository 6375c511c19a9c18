from __future__ import annotations

import pytest

from limitwise.policy.expr import Const, ExprError, VarInfo, parse
from limitwise.policy.pygen import compile_expr

SCOPE = {
    "score": VarInfo("int"),
    "util": VarInfo("float"),
    "flag": VarInfo("bool"),
    "segment": VarInfo("str", ("new", "existing")),
}
ENV = {"score": 700, "util": 0.25, "flag": True, "segment": "new"}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("score + 1", 701),
        ("score * util", 175.0),
        ("score / 4", 175.0),
        ("-score", -700),
        ("600 < score <= 700", True),
        ("score > 700 or flag and not segment == 'existing'", True),
        ("segment in ['new']", True),
        ("segment not in ['new']", False),
        ("score in [1, 700]", True),
        ("between(util, 0.2, 0.3)", True),
        ("min(score, 650, 800)", 650),
        ("max(score, util)", 700.0),
        ("clamp(score, 0, 500)", 500),
        ("round(score * 1.5, 100)", 1100),
        ("round(2.5)", 3),
        ("round(-2.5)", -2),
        ("abs(-score)", 700),
        ("yuan(5)", 500),
        ("1 if flag else 2.5", 1.0),
        ("true and flag", True),
    ],
)
def test_evaluates(text: str, value: object) -> None:
    result = compile_expr(parse(text, SCOPE))(ENV)
    assert result == value
    assert type(result) is type(value)


def test_constants_fold() -> None:
    assert parse("yuan(2000) * 3", SCOPE) == Const(600000, "int")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('true')", "unknown function"),
        ("score.real", "Attribute is not allowed"),
        ("[x for x in [1]]", "ListComp is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("ENV['score']", "Subscript is not allowed"),
        ("income > 3", "unknown feature or variable 'income'"),
        ("score / util", "division is only allowed by a non-zero constant"),
        ("score / 0", "division is only allowed by a non-zero constant"),
        ("segment == 'old'", "'old' is not a value of segment"),
        ("segment > 'a'", "'>' needs numbers"),
        ("score == 'a'", "cannot compare int with str"),
        ("flag + 1", "must be a number"),
        ("score and flag", "must be true/false"),
        ("round(score, util)", "positive integer constant step"),
        ("min(score)", "at least two arguments"),
        ("score is None", "not allowed"),
        ("score ** 2", r"only \+ - \* / are allowed"),
        ("score >", "syntax error"),
        ("1 if flag else 'x'", "both branches"),
    ],
)
def test_rejects_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ExprError, match=message):
        parse(text, SCOPE)
