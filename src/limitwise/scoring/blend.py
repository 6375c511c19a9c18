"""Weighted averages of frozen cards, frozen again into one plain card.

A card's score is the sum of its terms' points, so a weighted average of cards is the sum of
the weighted averages of their terms. Each term (a characteristic, or a pair by its two
inputs) is re-cut on the common refinement of the members' bins -- numeric: the union of
every member's splits; categorical: the categories every member groups alike -- and each
member's points are looked up there (a member without the term gives it 0 points: its
constant is shared among its other terms), averaged and rounded once. The result is again
1-D and 2-D tables: serving, reasons and advice need nothing new, and the blended score is
the weighted average of the members' scores up to that rounding (at most half a point per
term). With positive weights, a trend every member's points follow is kept.

Used to blend a segment's own card with the pooled card inside the segment (a pooled prior
for a segment trained on fewer rows).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from limitwise.scoring.schemas import (
    Axis,
    Characteristic,
    DerivedColumn,
    Interaction,
    Scorecard,
)
from limitwise.scoring.train import reason_text


@dataclass(frozen=True)
class _Refined:
    """An axis cut finely enough for every member, and each member's index for its rows."""

    axis: Axis
    #: ``lookup[m][i]``: member ``m``'s index (see :class:`Axis`) for refined index ``i``.
    lookup: list[list[int]]


def merged_bins(splits: list[float], points: list[int]) -> tuple[list[float], list[int]]:
    """Drop the splits between neighbouring bins that earn the same points."""
    kept_splits: list[float] = []
    kept_points = [points[0]]
    for split, value in zip(splits, points[1:], strict=True):
        if value != kept_points[-1]:
            kept_splits.append(split)
            kept_points.append(value)
    return kept_splits, kept_points


def interval(low: float | None, high: float | None) -> str:
    """A numeric bin's label, left-closed like serving."""
    return (
        f"[{'-inf' if low is None else f'{low:.6g}'}, {'inf' if high is None else f'{high:.6g}'})"
    )


def characteristic_axis(characteristic: Characteristic) -> Axis:
    """A characteristic's bins as an axis (indices: missing, the bins, unknown)."""
    return Axis(
        name=characteristic.name,
        kind=characteristic.kind,
        splits=characteristic.splits,
        categories=characteristic.categories,
    )


def characteristic_table(characteristic: Characteristic) -> list[int]:
    """Points by axis index: missing, the bins, unknown."""
    return [characteristic.points_missing, *characteristic.points, characteristic.points_unknown]


def _refine(axes: Sequence[Axis]) -> _Refined:
    kinds = {axis.kind for axis in axes}
    if len(kinds) != 1:
        raise ValueError(f"{axes[0].name!r} is numeric in one card and categorical in another")
    if kinds == {"numeric"}:
        splits = sorted({split for axis in axes for split in axis.splits})
        refined = Axis(name=axes[0].name, kind="numeric", splits=splits)
        # Refined bin k starts at splits[k - 1] (bin 0 at -inf): every member's bin of it is
        # the one its start falls in, since each member's splits are among the refined ones.
        starts = [None, *splits]
        lookup = [
            [0]
            + [1 + (0 if s is None else bisect_right(axis.splits, s)) for s in starts]
            + [axis.size - 1]
            for axis in axes
        ]
        return _Refined(refined, lookup)
    groups: dict[tuple[int, ...], list[str]] = {}
    for category in dict.fromkeys(c for axis in axes for group in axis.categories for c in group):
        key = tuple(_category_index(axis, category) for axis in axes)
        groups.setdefault(key, []).append(category)
    refined = Axis(name=axes[0].name, kind="categorical", categories=list(groups.values()))
    lookup = [[0, *(key[m] for key in groups), axis.size - 1] for m, axis in enumerate(axes)]
    return _Refined(refined, lookup)


def _category_index(axis: Axis, category: str) -> int:
    for index, group in enumerate(axis.categories):
        if category in group:
            return index + 1
    return axis.size - 1


def _blend_characteristic(members: list[tuple[float, Characteristic]]) -> Characteristic:
    refined = _refine([characteristic_axis(c) for _w, c in members])
    tables = [characteristic_table(c) for _w, c in members]
    weighted = list(zip([w for w, _c in members], tables, refined.lookup, strict=True))
    averaged = [
        round(sum(w * table[lookup[i]] for w, table, lookup in weighted))
        for i in range(refined.axis.size)
    ]
    first = members[0][1]
    missing, points, unknown = averaged[0], averaged[1:-1], averaged[-1]
    splits = refined.axis.splits
    if first.kind == "numeric":
        splits, points = merged_bins(splits, points)
        edges: list[float | None] = [None, *splits, None]
        bins = [interval(edges[i], edges[i + 1]) for i in range(len(points))]
    else:
        bins = [", ".join(group) for group in refined.axis.categories]
    return first.model_copy(
        update={
            "reason": reason_text(first.label, first.kind, points),
            "iv": sum(w * c.iv for w, c in members),
            "splits": splits,
            "categories": refined.axis.categories,
            "bins": bins,
            "points": points,
            "points_missing": missing,
            "points_unknown": unknown,
            "event_rates": [],
        }
    )


def _pair_key(interaction: Interaction) -> tuple[str, str]:
    first, second = (axis.name for axis in interaction.axes)
    return (first, second) if first <= second else (second, first)


def _oriented(interaction: Interaction) -> tuple[list[Axis], list[list[int]]]:
    """The pair's axes in name order and its table to match."""
    axes, points = list(interaction.axes), interaction.points
    if axes[0].name > axes[1].name:
        return axes[::-1], [list(column) for column in zip(*points, strict=True)]
    return axes, points


def _blend_interaction(members: list[tuple[float, Interaction]]) -> Interaction:
    oriented = [_oriented(i) for _w, i in members]
    rows, columns = (_refine([axes[k] for axes, _p in oriented]) for k in (0, 1))
    weighted = [(w, table) for (w, _i), (_axes, table) in zip(members, oriented, strict=True)]
    points = [
        [
            round(
                sum(
                    w * table[rows.lookup[m][i]][columns.lookup[m][j]]
                    for m, (w, table) in enumerate(weighted)
                )
            )
            for j in range(columns.axis.size)
        ]
        for i in range(rows.axis.size)
    ]
    first = members[0][1]
    return first.model_copy(
        update={
            "importance": sum(w * i.importance for w, i in members),
            "axes": [rows.axis, columns.axis],
            "points": points,
        }
    )


def _derived_union(cards: Sequence[Scorecard]) -> list[DerivedColumn]:
    union: dict[str, DerivedColumn] = {}
    for derived in (d for card in cards for d in card.derived):
        if union.setdefault(derived.name, derived) != derived:
            raise ValueError(f"derived column {derived.name!r} is defined two ways")
    return list(union.values())


def average_cards(cards: Sequence[Scorecard], weights: Sequence[float]) -> Scorecard:
    """One unsegmented card scoring the ``weights``-weighted average of the ``cards``' scores.

    The weights must be positive and sum to 1. The result keeps the first card's name,
    version, training summary and metrics (the caller sets its own); its terms are every
    member's, strongest first, with codes numbered afresh in the first card's prefix.
    """
    if len(cards) != len(weights) or not cards:
        raise ValueError("one weight per card")
    if any(w <= 0 for w in weights) or abs(sum(weights) - 1) > 1e-9:
        raise ValueError("weights must be positive and sum to 1")
    if any(card.segments for card in cards):
        raise ValueError("only unsegmented cards can be averaged")
    characteristics: dict[str, list[tuple[float, Characteristic]]] = {}
    interactions: dict[tuple[str, str], list[tuple[float, Interaction]]] = {}
    for weight, card in zip(weights, cards, strict=True):
        for characteristic in card.characteristics:
            characteristics.setdefault(characteristic.name, []).append((weight, characteristic))
        for interaction in card.interactions:
            interactions.setdefault(_pair_key(interaction), []).append((weight, interaction))
    prefix = cards[0].characteristics[0].code[0]
    blended_characteristics = [_blend_characteristic(m) for m in characteristics.values()]
    blended_interactions = [_blend_interaction(m) for m in interactions.values()]
    blended_characteristics.sort(key=lambda c: -c.iv)
    blended_interactions.sort(key=lambda i: -i.importance)
    numbered = [
        term.model_copy(update={"code": f"{prefix}{position + 1:02d}"})
        for position, term in enumerate([*blended_characteristics, *blended_interactions])
    ]
    return cards[0].model_copy(
        update={
            "derived": _derived_union(cards),
            "characteristics": numbered[: len(blended_characteristics)],
            "interactions": numbered[len(blended_characteristics) :],
        }
    )
