from __future__ import annotations

import pytest

from limitwise.policy.validate import PolicyInvalid, load_text

HEAD = """\
key: t
version: "1"
line: {current: current_line_fen, step_fen: 100, max_fen: 1000000}
features:
  current_line_fen: {type: money}
  score: {type: int}
  dpd: {type: int}
  segment: {type: enum, values: [new, existing]}
variables:
  bonus: {type: int, default: 0}
reasons:
  R1: {en: one, zh: 一}
"""


def problems_of(nodes: str, head: str = HEAD) -> list[str]:
    with pytest.raises(PolicyInvalid) as info:
        load_text(head + nodes, source="p.yaml")
    return [str(p) for p in info.value.problems]


def test_a_valid_policy_loads() -> None:
    policy = load_text(HEAD + "nodes:\n  - {id: a, kind: expression, assign: {bonus: score}}\n")
    assert policy.key == "t" and len(policy.content_hash) == 64


def test_hash_ignores_comments_and_layout() -> None:
    nodes = "nodes:\n  - {id: a, kind: expression, assign: {bonus: score}}\n"
    spaced = (
        "# a comment\n" + HEAD + "nodes:\n  - id: a\n    kind: expression\n"
        "    assign:\n      bonus: score   # same\n"
    )
    assert load_text(HEAD + nodes).content_hash == load_text(spaced).content_hash


def test_unknown_feature_names_file_line_and_node() -> None:
    (problem,) = problems_of(
        "nodes:\n  - id: rules\n    kind: ruleset\n    hit: first\n"
        "    rules:\n      - {id: r, when: income > 3, then: {action: keep}}\n"
    )
    assert problem.startswith("p.yaml:18: node 'rules' nodes[0].rules[0].when:")
    assert "unknown feature or variable 'income'" in problem


def test_type_errors() -> None:
    found = problems_of(
        "nodes:\n  - id: e\n    kind: expression\n"
        "    assign: {bonus: score > 1}\n"
        "  - {id: r, kind: ruleset, hit: first, rules: [{id: x, when: score, "
        "then: {action: keep}}]}\n"
    )
    assert any("cannot assign a bool value to bonus" in p for p in found)
    assert any("must be a condition (true/false), got int" in p for p in found)


def test_unreachable_rules() -> None:
    found = problems_of(
        "nodes:\n  - id: r\n    kind: ruleset\n    hit: first\n    rules:\n"
        "      - {id: a, when: score > 1, then: {action: keep}}\n"
        "      - {id: b, when: score > 1, then: {action: decrease}}\n"
        "      - {id: c, when: true, then: {action: keep}}\n"
        "      - {id: d, when: dpd > 3, then: {action: freeze}}\n"
        "      - {id: e, when: false, then: {action: freeze}}\n"
    )
    assert any(
        "rule 'b' is unreachable: an earlier rule has the same condition" in p for p in found
    )
    assert any("rule 'd' is unreachable: rule 'c' always matches" in p for p in found)
    assert any("rule 'e' is unreachable: its condition is false" in p for p in found)


def test_first_table_row_shadowed_by_an_earlier_row() -> None:
    (problem,) = problems_of(
        "nodes:\n  - id: t\n    kind: table\n    hit: first\n    inputs: [score, segment]\n"
        "    rows:\n      - {id: wide, when: ['>= 600', '-'], then: {action: keep}}\n"
        "      - {id: narrow, when: ['[650..700]', new], then: {action: increase}}\n"
    )
    assert "row 'narrow' is unreachable: row 'wide' matches everything it does" in problem


FIRST_TABLE = (
    "nodes:\n  - id: t\n    kind: table\n    hit: first\n    inputs: [{inputs}]\n    rows:\n{rows}"
)


def first_table(inputs: str, *rows: tuple[str, str]) -> str:
    lines = "".join(
        f"      - {{id: {i}, when: {cells}, then: {{action: keep}}}}\n" for i, cells in rows
    )
    return FIRST_TABLE.format(inputs=inputs, rows=lines)


def test_first_table_row_covered_only_by_several_earlier_rows() -> None:
    (problem,) = problems_of(
        first_table(
            "score, segment",
            ("low", "['<= 600', '-']"),
            ("high_new", "['> 600', new]"),
            ("high_existing", "['> 650', existing]"),
            ("all_new", "['-', new]"),
        )
    )
    assert "row 'all_new' is unreachable: rows 'low', 'high_new' together match" in problem


def test_integer_inputs_are_covered_exactly_float_ones_are_not() -> None:
    rows = (("low", "['<= 5']"), ("high", "['>= 6']"), ("rest", "['-']"))
    (problem,) = problems_of(first_table("score", *rows))
    assert "row 'rest' is unreachable: rows 'low', 'high' together" in problem
    head = HEAD.replace("score: {type: int}", "score: {type: float}")
    load_text(head + first_table("score", *rows))  # 5 < score < 6 reaches 'rest'


def test_a_row_with_something_left_is_reachable() -> None:
    load_text(
        HEAD
        + first_table(
            "score, dpd",
            ("a", "['< 600', '-']"),
            ("b", "['>= 600', '<= 30']"),
            ("c", "['-', '-']"),  # score >= 600 and dpd > 30 is left
        )
    )


def test_unique_table_overlap_is_rejected_on_integers_exactly() -> None:
    table = (
        "nodes:\n  - id: t\n    kind: table\n    hit: unique\n    inputs: [score, dpd]\n"
        "    rows:\n      - {{id: a, when: ['< 600', '-'], then: {{action: keep}}}}\n"
        "      - {{id: b, when: ['{cell}', '> 0'], then: {{action: decrease}}}}\n"
    )
    (problem,) = problems_of(table.format(cell=">= 599"))
    assert "rows 'a' and 'b' overlap, which the unique hit policy forbids" in problem
    # '< 600' and '> 599' share no integer: no overlap
    load_text(HEAD + table.format(cell="> 599"))


def test_missing_reason_texts_and_unknown_codes() -> None:
    head = HEAD.replace("R1: {en: one, zh: 一}", "R1: {en: one}\n  R2: {zh: 二}")
    found = problems_of(
        "nodes:\n  - {id: r, kind: ruleset, hit: first, rules: [{id: x, "
        "when: true, then: {action: keep, reasons: [R9]}}]}\n",
        head,
    )
    assert any("reason R1 has no zh text" in p for p in found)
    assert any("reason R2 has no en text" in p for p in found)
    assert any("unknown reason code R9" in p for p in found)


def test_structural_errors_point_at_the_line() -> None:
    found = problems_of(
        "nodes:\n  - id: m\n    kind: matrix\n    rows: {input: score, "
        "breaks: [600, 500]}\n    columns: {input: dpd, breaks: []}\n"
        "    values: [[1], [2], [3]]\n    assign: bonus\n"
        "  - {id: x, kind: wormhole}\n"
    )
    assert found == [
        "p.yaml:20: node 'x' nodes[1]: Input tag 'wormhole' found using 'kind' does not "
        "match any of the expected tags: 'expression', 'ruleset', 'table', 'matrix', "
        "'scorecard'"
    ]


def test_matrix_shape_and_order() -> None:
    found = problems_of(
        "nodes:\n  - id: m\n    kind: matrix\n    rows: {input: score, "
        "breaks: [600, 500]}\n    columns: {input: dpd, breaks: []}\n"
        "    values: [[1], [2]]\n    assign: bonus\n"
    )
    assert any("breaks must be strictly ascending" in p for p in found)
    assert any("values must be 3 rows x 1 columns" in p for p in found)


def test_yaml_syntax_error_has_a_line() -> None:
    with pytest.raises(PolicyInvalid, match=r"p.yaml:4: yaml"):
        load_text("key: t\nversion: '1'\nline: {current: [\n", source="p.yaml")


def test_bad_cells_name_the_input() -> None:
    found = problems_of(
        "nodes:\n  - id: t\n    kind: table\n    hit: first\n    inputs: [segment, score]\n"
        "    rows:\n      - {id: a, when: [vip, '>= 6.5'], then: {action: keep}}\n"
        "      - {id: b, when: [new], then: {action: keep}}\n"
    )
    assert any(
        "cell for 'segment': vip not among the input's values (new, existing)" in p for p in found
    )
    assert any("cell for 'score': 6.5 is not an integer but the input is int" in p for p in found)
    assert any("row 'b' has 1 cells for 2 inputs" in p for p in found)
