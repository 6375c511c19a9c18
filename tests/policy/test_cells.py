"""The coverage proof behind "row covered by several earlier rows", against brute force."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from limitwise.policy.cells import (
    AnyCell,
    Box,
    Cell,
    Members,
    covered_by_union,
    domain,
    parse_cell,
)

#: Every finite bound lies in 0..9, so -1..10 meets every region an integer can fall in.
GRID = range(-1, 11)
SEGMENTS = ("new", "existing", "vip")

numeric_cells = st.one_of(
    st.just("-"),
    st.builds(
        lambda op, n: f"{op} {n}", st.sampled_from([">", ">=", "<", "<=", "=="]), st.integers(0, 9)
    ),
    st.builds(
        lambda lo, hi, opening, closing: f"{opening}{min(lo, hi)}..{max(lo, hi)}{closing}",
        st.integers(0, 9),
        st.integers(0, 9),
        st.sampled_from("[("),
        st.sampled_from("])"),
    ),
)
enum_cells = st.one_of(
    st.just("-"),
    st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3, unique=True).map(", ".join),
)
rows = st.tuples(numeric_cells, numeric_cells, enum_cells)


def parse(raw: tuple[str, str, str]) -> Box:
    return (
        parse_cell(raw[0], "int", None),
        parse_cell(raw[1], "int", None),
        parse_cell(raw[2], "str", SEGMENTS),
    )


def accepts(cell: Cell, value: object) -> bool:
    if isinstance(cell, AnyCell):
        return True
    if isinstance(cell, Members):
        return value in cell.values
    lo_ok = cell.lo <= value if cell.lo_closed else cell.lo < value  # type: ignore[operator]
    hi_ok = value <= cell.hi if cell.hi_closed else value < cell.hi  # type: ignore[operator]
    return bool(lo_ok and hi_ok)


def brute_force_covered(row: Box, earlier: list[Box]) -> bool:
    for point in itertools.product(GRID, GRID, SEGMENTS):
        inside = all(accepts(c, v) for c, v in zip(row, point, strict=True))
        if inside and not any(
            all(accepts(c, v) for c, v in zip(box, point, strict=True)) for box in earlier
        ):
            return False
    return True


@settings(max_examples=300, deadline=None)
@given(row=rows, earlier=st.lists(rows, max_size=5))
def test_coverage_matches_brute_force(
    row: tuple[str, str, str], earlier: list[tuple[str, str, str]]
) -> None:
    domains = (domain("int", None), domain("int", None), domain("str", SEGMENTS))
    assert all(d is not None for d in domains)
    box, boxes = parse(row), [parse(r) for r in earlier]
    proved = covered_by_union(box, boxes, tuple(d for d in domains if d), (True, True, False))
    assert proved == brute_force_covered(box, boxes)
