from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limitwise.kit.errors import InvalidInput
from limitwise.kit.money import (
    MAX_FEN,
    format_yuan,
    from_fen,
    parse_amount_fen,
    round_fen,
    split_largest_remainder,
    to_fen,
)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("1.005", "1.01"),
        ("-0.005", "-0.01"),
        ("2.675", "2.68"),
    ],
)
def test_round_fen_is_half_up(amount, expected):
    assert round_fen(Decimal(amount)) == Decimal(expected)


def test_fen_round_trip():
    assert to_fen(Decimal("12345.675")) == 1234568
    assert from_fen(1234568) == Decimal("12345.68")
    assert format_yuan(-5) == "-0.05"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (1.5, "amount_not_decimal"),
        (True, "amount_not_decimal"),
        ("abc", "amount_not_decimal"),
        ("NaN", "amount_not_decimal"),
        ("Infinity", "amount_not_decimal"),
        (None, "amount_not_decimal"),
        ("1.001", "amount_precision"),
        ("0", "amount_not_positive"),
        ("-3.00", "amount_not_positive"),
        (str(MAX_FEN), "amount_too_large"),
    ],
)
def test_parse_amount_refuses_with_field_and_rule(value, code):
    with pytest.raises(InvalidInput) as caught:
        parse_amount_fen(value, field="amount")
    assert caught.value.code == code
    assert caught.value.field == "amount"


def test_parse_amount_accepts_decimal_forms():
    assert parse_amount_fen("100.00", field="a") == 10000
    assert parse_amount_fen(" 7 ", field="a") == 700
    assert parse_amount_fen(Decimal("0.01"), field="a") == 1
    assert parse_amount_fen("0", field="a", allow_zero=True) == 0


def test_split_gives_leftover_to_largest_remainders():
    assert split_largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert split_largest_remainder(-100, [1, 1, 1]) == [-34, -33, -33]
    assert split_largest_remainder(10, [Decimal("0.5"), Decimal("0.3"), Decimal("0.2")]) == [
        5,
        3,
        2,
    ]


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(
        lambda ws: sum(ws) > 0
    ),
)
def test_split_sums_exactly_and_stays_within_one_fen(total, weights):
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(total) * weight / sum(weights)
        assert abs(Decimal(part) - exact) < 1


def test_split_rejects_bad_weights():
    with pytest.raises(ValueError):
        split_largest_remainder(10, [])
    with pytest.raises(ValueError):
        split_largest_remainder(10, [0, 0])
    with pytest.raises(ValueError):
        split_largest_remainder(10, [2, -1])
