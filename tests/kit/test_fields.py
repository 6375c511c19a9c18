"""The typed request fields: every value is accepted as what it is or refused by its rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from limitwise.kit.fields import CONTROL_CHARACTERS, AmountFen, Ref, WholeNumber


class Form(BaseModel):
    ref: Ref = "A-1"
    amount: AmountFen = 1
    count: WholeNumber = 1


def rules(**values: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        Form(**values)
    return {".".join(map(str, e["loc"])): e["type"] for e in caught.value.errors()}


def test_each_field_refuses_by_its_rule():
    assert rules(ref="A\x00", amount="1e26", count=True) == {
        "ref": "text_control_character",
        "amount": "amount_not_decimal",
        "count": "int_type",
    }
    assert rules(ref="", amount="0", count="3") == {
        "ref": "string_too_short",
        "amount": "amount_not_positive",
        "count": "int_type",
    }


def test_amounts_become_fen():
    assert Form(amount="1234.56").amount == 123456
    assert Form(amount=7).amount == 700


@given(st.text(max_size=80))
def test_any_text_is_a_ref_or_refused_by_rule(text):
    try:
        assert Form(ref=text).ref == text
    except ValidationError as exc:
        assert {e["type"] for e in exc.errors()} <= {
            "text_control_character",
            "string_too_short",
            "string_too_long",
        }
    else:
        assert 1 <= len(text) <= 64 and not CONTROL_CHARACTERS.search(text)
