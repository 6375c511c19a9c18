"""Money: ``Decimal`` yuan in code, integer fen in storage, never float.

Rounding is ROUND_HALF_UP to the fen everywhere money becomes a stored amount; splits use
the largest-remainder method so the parts always add up to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from limitwise.kit.errors import InvalidInput

FEN_PER_YUAN = 100
ONE_FEN = Decimal("0.01")
#: Largest amount any single money field may carry: 10^13 fen = 100 billion yuan.
MAX_FEN = 10**13


def round_fen(amount: Decimal) -> Decimal:
    """Round a yuan amount half-up to whole fen."""
    return amount.quantize(ONE_FEN, rounding=ROUND_HALF_UP)


def to_fen(amount: Decimal) -> int:
    """Yuan ``Decimal`` -> integer fen, rounding half-up."""
    return int(round_fen(amount) * FEN_PER_YUAN)


def from_fen(amount_fen: int) -> Decimal:
    """Integer fen -> yuan ``Decimal`` with exactly two places."""
    return (Decimal(amount_fen) / FEN_PER_YUAN).quantize(ONE_FEN)


def format_yuan(amount_fen: int) -> str:
    """Render fen as a plain yuan string, e.g. ``1234567`` -> ``"12345.67"``."""
    return str(from_fen(amount_fen))


def parse_amount_fen(value: object, *, field: str, allow_zero: bool = False) -> int:
    """Parse a user-supplied yuan amount (string, int or Decimal) into positive fen.

    Refuses floats (they cannot hold money exactly), more than two decimals, negatives,
    zero (unless allowed), non-finite values and absurdly large amounts, naming ``field``.
    """
    if isinstance(value, (bool, float)):
        raise InvalidInput(
            'amount must be a decimal string such as "100.00", not a float',
            field=field,
            code="amount_not_decimal",
        )
    try:
        amount = Decimal(str(value).strip()) if isinstance(value, (str, int, Decimal)) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise InvalidInput(
            f"amount {value!r} is not a decimal number", field=field, code="amount_not_decimal"
        )
    if amount != amount.quantize(ONE_FEN, rounding=ROUND_HALF_UP):
        raise InvalidInput(
            f"amount {value} has more than two decimal places", field=field, code="amount_precision"
        )
    fen = int(amount * FEN_PER_YUAN)
    if fen < 0 or (fen == 0 and not allow_zero):
        raise InvalidInput(
            f"amount must be greater than zero, got {value}",
            field=field,
            code="amount_not_positive",
        )
    if fen > MAX_FEN:
        raise InvalidInput(
            f"amount {value} exceeds the maximum of {format_yuan(MAX_FEN)}",
            field=field,
            code="amount_too_large",
        )
    return fen


def split_largest_remainder(total_fen: int, weights: Sequence[Decimal | int]) -> list[int]:
    """Split ``total_fen`` in proportion to ``weights`` so the parts sum exactly to the total.

    Each part gets the floor of its exact share; the leftover fen go one each to the parts
    with the largest fractional remainders (ties to the earlier part).
    """
    if not weights:
        raise ValueError("cannot split over no weights")
    weight_sum = sum((Decimal(w) for w in weights), Decimal(0))
    if weight_sum <= 0 or any(Decimal(w) < 0 for w in weights):
        raise ValueError("weights must be non-negative with a positive sum")
    sign = -1 if total_fen < 0 else 1
    magnitude = abs(total_fen)
    exact = [Decimal(magnitude) * Decimal(w) / weight_sum for w in weights]
    parts = [int(share) for share in exact]
    leftover = magnitude - sum(parts)
    by_remainder = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[:leftover]:
        parts[i] += 1
    return [sign * p for p in parts]
