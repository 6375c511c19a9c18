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
        ("1e26", "amount_not_decimal"),
        ("1E+30", "amount_not_decimal"),
        ("1e2", "amount_not_decimal"),
        ("9" * 32, "amount_too_large"),
        (10**28, "amount_too_large"),
        (Decimal("1e26"), "amount_too_large"),
        ("1_000.00", "amount_not_decimal"),
        ("１００", "amount_not_decimal"),
        ("\u0661\u0660\u0660", "amount_not_decimal"),
        ("+5", "amount_not_decimal"),
        ("1,000.00", "amount_not_decimal"),
        (".5", "amount_not_decimal"),
        pytest.param("1." + "0" * 5000, "amount_precision", id="5000-places"),
        pytest.param("1" * 5000, "amount_too_large", id="5000-digit-text"),
        pytest.param(10**5000, "amount_too_large", id="5000-digit-int"),
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


@given(st.one_of(st.text(), st.integers(), st.decimals(), st.floats(), st.booleans(), st.none()))
def test_parse_amount_returns_fen_or_refuses_by_name(value):
    try:
        fen = parse_amount_fen(value, field="amount", allow_zero=True)
    except InvalidInput as exc:
        assert exc.field == "amount"
        assert exc.code.startswith("amount_")
    else:
        assert isinstance(fen, int)
        assert 0 <= fen <= MAX_FEN


@given(st.integers(min_value=1, max_value=MAX_FEN))
def test_valid_amounts_round_trip(fen):
    assert parse_amount_fen(format_yuan(fen), field="amount") == fen
    if fen % 100 == 0:
        assert parse_amount_fen(fen // 100, field="amount") == fen
