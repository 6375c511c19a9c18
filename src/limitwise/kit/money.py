"""Money: ``Decimal`` yuan in code, integer fen in storage, never float.

Rounding is ROUND_HALF_UP to the fen everywhere money becomes a stored amount; splits use
the largest-remainder method so the parts always add up to the whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

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


#: What an amount written as text looks like: ASCII digits, optionally a point and decimals,
#: optionally a leading minus (more than two places and negatives are then refused by their
#: own rules). No exponents, underscores, plus signs, separators or non-ASCII digits.
AMOUNT_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
#: Digits a yuan amount may have before the point (as many as MAX_FEN in yuan); longer text
#: is refused as too large before any arithmetic is done on it.
_MAX_YUAN_DIGITS = len(str(MAX_FEN // FEN_PER_YUAN))


def parse_amount_fen(value: object, *, field: str, allow_zero: bool = False) -> int:
    """Parse a user-supplied yuan amount into positive fen, or refuse it naming ``field``.

    An amount is a plain ASCII decimal string with at most two places (``"1000.00"``), a
    whole number of yuan (a JSON integer), or a finite ``Decimal``. Floats, booleans,
    exponents, underscores, full-width or other non-ASCII digits, more than two places,
    negatives, zero (unless allowed) and amounts above ``MAX_FEN`` are refused by rule.
    """
    amount = _amount_decimal(value, field=field)
    if amount.adjusted() >= _MAX_YUAN_DIGITS + 1:
        raise _too_large(field)
    if amount != amount.quantize(ONE_FEN, rounding=ROUND_HALF_UP):
        raise _too_many_places(value, field)
    fen = int(amount * FEN_PER_YUAN)
    if fen < 0 or (fen == 0 and not allow_zero):
        raise InvalidInput(
            f"amount must be greater than zero, got {value}",
            field=field,
            code="amount_not_positive",
        )
    if fen > MAX_FEN:
        raise _too_large(field)
    return fen


def _amount_decimal(value: object, *, field: str) -> Decimal:
    """The amount as a finite Decimal, refusing every form that is not an amount."""
    if isinstance(value, (bool, float)):
        raise InvalidInput(
            'amount must be a decimal string such as "100.00", not a '
            + ("boolean" if isinstance(value, bool) else "float"),
            field=field,
            code="amount_not_decimal",
        )
    if isinstance(value, int):
        if abs(value) > MAX_FEN:
            raise _too_large(field)
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, str):
        text = value.strip(" ")
        if AMOUNT_TEXT.fullmatch(text):
            whole, _, places = text.lstrip("-").partition(".")
            if len(whole.lstrip("0")) > _MAX_YUAN_DIGITS:
                raise _too_large(field)
            if len(places) > 2:
                raise _too_many_places(value, field)
            return Decimal(text)
    raise InvalidInput(
        f'amount {_shorten(value)!r} is not a plain decimal number such as "100.00"',
        field=field,
        code="amount_not_decimal",
    )


def _too_many_places(value: object, field: str) -> InvalidInput:
    return InvalidInput(
        f"amount {_shorten(value)} has more than two decimal places",
        field=field,
        code="amount_precision",
    )


def _too_large(field: str) -> InvalidInput:
    return InvalidInput(
        f"amount exceeds the maximum of {format_yuan(MAX_FEN)}",
        field=field,
        code="amount_too_large",
    )


def _shorten(value: object, limit: int = 40) -> object:
    """A value for an error message: long text is cut so a refusal never echoes megabytes."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "..."
    return value


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
