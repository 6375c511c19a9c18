"""The golden cases next to each policy: the online evaluator, the polars plan, the DuckDB
SQL and the compiled kernel must all reach the hand-worked decision."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from limitwise.kit.errors import InvalidInput
from limitwise.policy.kernel import KernelPlan
from limitwise.policy.online import PolicyEvaluator
from limitwise.policy.polars_plan import PolarsPlan, evaluate_book
from limitwise.policy.sql import compile_sql
from limitwise.policy.validate import load_file
from tests.policy.conftest import POLICIES

CASE_FILES = sorted(POLICIES.glob("*.cases.yaml"))


def load_cases() -> list[Any]:
    params = []
    for path in CASE_FILES:
        spec = yaml.safe_load(path.read_text())
        policy_path = path.with_name(path.name.replace(".cases.yaml", ".yaml"))
        for case in spec["cases"]:
            features = {**spec["bases"][case["base"]], **case.get("input", {})}
            params.append(pytest.param(policy_path, features, case["expect"], id=case["name"]))
    return params


CASES = load_cases()


def test_every_policy_has_golden_cases() -> None:
    policies = {p for p in POLICIES.glob("*.yaml") if not p.name.endswith(".cases.yaml")}
    assert policies == {p.with_name(p.name.replace(".cases.yaml", ".yaml")) for p in CASE_FILES}


@pytest.mark.parametrize(("policy_path", "features", "expect"), CASES)
def test_online_matches_golden(policy_path: Any, features: dict[str, Any], expect: Any) -> None:
    decision = PolicyEvaluator(load_file(policy_path)).evaluate(features)
    assert decision.action == expect["action"]
    assert decision.line_fen == expect["line_fen"]
    assert decision.reasons == expect["reasons"]
    assert decision.notice == expect["notice"]
    assert decision.sub_lines == {"car_owner": 0, **expect.get("sub_lines", {})}


@pytest.mark.parametrize("policy_path", sorted({c.values[0] for c in CASES}))
def test_batch_engines_match_golden(policy_path: Any) -> None:
    policy = load_file(policy_path)
    cases = [c.values for c in CASES if c.values[0] == policy_path]
    book = pl.DataFrame([features for _, features, _ in cases])
    by_polars = evaluate_book(policy, book).to_dicts()
    con = duckdb.connect()
    con.register("book", book)
    by_duckdb = con.sql(compile_sql(policy, table="book")).pl().to_dicts()
    assert KernelPlan(policy).evaluate(book).to_dicts() == by_polars
    for (_, _, expect), row_polars, row_duckdb in zip(cases, by_polars, by_duckdb, strict=True):
        assert row_polars == row_duckdb
        reasons = [row_polars[f"reason_{i}"] for i in range(1, 5) if row_polars[f"reason_{i}"]]
        got = (row_polars["action"], row_polars["line_fen"], reasons, row_polars["notice"])
        assert got == (expect["action"], expect["line_fen"], expect["reasons"], expect["notice"])
        assert sub_lines_of(row_polars) == {"car_owner": 0, **expect.get("sub_lines", {})}


def sub_lines_of(row: dict[str, Any]) -> dict[str, int]:
    """The ``sub_line_<name>_fen`` columns of a batch row, by sub-line name."""
    return {
        key.removeprefix("sub_line_").removesuffix("_fen"): value
        for key, value in row.items()
        if key.startswith("sub_line_") and key.endswith("_fen")
    }


@pytest.fixture(scope="module")
def default_kernel(default_policy: Any) -> KernelPlan:
    return KernelPlan(default_policy)


@pytest.mark.parametrize("engine", ["polars", "kernel"])
def test_a_bad_book_is_refused_naming_the_column(
    default_policy: Any, default_kernel: KernelPlan, engine: str
) -> None:
    cases = yaml.safe_load((POLICIES / "default.cases.yaml").read_text())
    base = cases["bases"]["existing"]

    def evaluate(book: pl.DataFrame) -> pl.DataFrame:
        if engine == "kernel":
            return default_kernel.evaluate(book)
        return evaluate_book(default_policy, book)

    with pytest.raises(InvalidInput, match="features may not be null: dpd_now"):
        evaluate(pl.DataFrame([base, {**base, "dpd_now": None}]))
    with pytest.raises(InvalidInput, match=r"does not fit the feature schema.*vip"):
        evaluate(pl.DataFrame([base, {**base, "segment": "vip"}]))
    with pytest.raises(InvalidInput, match="does not fit the feature schema"):
        evaluate(pl.DataFrame([{**base, "dpd_now": "ten"}]))
    with pytest.raises(InvalidInput, match="lacks features: age_years"):
        evaluate(pl.DataFrame([base]).drop("age_years"))


def test_the_kernel_reads_features_in_their_declared_types(
    default_policy: Any, default_kernel: KernelPlan
) -> None:
    """A float feature sent as integers, an enum sent as an enum: the same decisions."""
    cases = yaml.safe_load((POLICIES / "default.cases.yaml").read_text())
    book = pl.DataFrame([{**base, "risk_appetite": 1.0} for base in cases["bases"].values()])
    expected = evaluate_book(default_policy, book)
    retyped = book.with_columns(
        pl.col("risk_appetite").cast(pl.Int64),
        pl.col("segment").cast(pl.Enum(["new", "existing"])),
    )
    assert_frame_equal(default_kernel.evaluate(retyped), expected)
    assert len(default_kernel.kernel.signatures) == 1  # compiled once, when it was made


def test_enum_text_is_read_as_the_enum_cast_reads_it(default_policy: Any) -> None:
    """Short enums sent as text are matched value by value instead of cast; the plan must
    read them exactly as the cast would, nulls included, and as an enum column already."""
    cases = yaml.safe_load((POLICIES / "default.cases.yaml").read_text())
    rows = [
        {**base, "product": product}
        for base in cases["bases"].values()
        for product in ("standard", "car_owner", None)
    ]
    text = pl.DataFrame(rows).lazy()
    enum = pl.Enum(["standard", "car_owner"])
    plan = PolarsPlan(default_policy)
    keep = ("segment", "product")
    by_text = plan.apply(text, keep=keep).collect()
    by_cast = plan.apply(text.with_columns(pl.col("product").cast(enum)), keep=keep).collect()
    assert by_text.schema["product"] == enum
    assert_frame_equal(by_text, by_cast)
    with pytest.raises(pl.exceptions.OutOfBoundsError):
        plan.apply(text.with_columns(product=pl.lit("truck"))).collect()
