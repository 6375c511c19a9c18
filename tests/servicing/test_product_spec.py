"""A product definition uses the typed request fields: booleans are not numbers, names are
plain text."""

from __future__ import annotations

import pytest

from limitwise.kit.errors import InvalidRequest
from limitwise.servicing.schemas import ProductSpec

PRODUCT = {"name": "std", "daily_rate_bps": "4.0", "repayment_types": ["daily"]}


def rules_of(data: dict) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as caught:
        ProductSpec.parse(data)
    return {p.field: p.rule for p in caught.value.problems}


def test_booleans_are_not_whole_numbers():
    rules = rules_of({**PRODUCT, "terms_months": [True, 3], "grace_days": True})
    assert rules == {"product.terms_months.0": "int_type", "product.grace_days": "int_type"}


def test_a_nul_in_the_name_is_refused_by_rule():
    rules = rules_of({**PRODUCT, "terms_months": [3], "name": "std\x00"})
    assert rules == {"product.name": "text_control_character"}


def test_amounts_with_exponents_are_refused_by_rule():
    rules = rules_of({**PRODUCT, "terms_months": [3], "max_line": "1e26", "min_draw": "1_0"})
    assert rules == {
        "product.max_line": "amount_not_decimal",
        "product.min_draw": "amount_not_decimal",
    }
