"""The Spark SQL dialect on a local Spark: the same decisions as the online evaluator on
the golden accounts and on deterministic variations of them (skipped without pyspark)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from limitwise.policy.sql import compile_sql
from limitwise.policy.validate import load_file
from tests.policy.test_differential import (
    POLICY_FILES,
    constants_of,
    golden_accounts,
    online_rows,
)

pyspark = pytest.importorskip("pyspark")

SPARK_TYPES = {
    "int": "BIGINT",
    "money": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "enum": "STRING",
}


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def variations(path: Path, count: int) -> list[dict[str, Any]]:
    """Golden accounts with two features moved to the policy's own thresholds (±1)."""
    policy = load_file(path)
    rng = random.Random(7)
    constants = constants_of(path)
    golden = golden_accounts(path)
    accounts = list(golden)
    for _ in range(count):
        account = dict(rng.choice(golden))
        for name in rng.sample(sorted(policy.features), 2):
            spec = policy.bundle.features[name]
            low = spec.min if spec.min is not None else 0
            high = spec.max if spec.max is not None else 10**9
            if spec.type == "bool":
                account[name] = not account[name]
            elif spec.type == "enum":
                account[name] = rng.choice(spec.values or [])
            else:
                near = [c + d for c in constants for d in (-1, 0, 1) if low <= c + d <= high]
                value = rng.choice(near or [low])
                account[name] = float(value) if spec.type == "float" else int(value)
        accounts.append(account)
    return accounts


@pytest.mark.slow
@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.stem)
def test_spark_sql_agrees_with_the_online_evaluator(spark: Any, path: Path) -> None:
    policy = load_file(path)
    accounts = variations(path, 150)
    names = list(policy.bundle.features)
    schema = ", ".join(
        ["account_id BIGINT"]
        + [f"{n} {SPARK_TYPES[policy.bundle.features[n].type]}" for n in names]
    )
    rows = [(i, *(a[n] for n in names)) for i, a in enumerate(accounts)]
    spark.createDataFrame(rows, schema=schema).createOrReplaceTempView("book")
    sql = compile_sql(policy, table="book", dialect="spark", keep=("account_id",))
    got = sorted((r.asDict() for r in spark.sql(sql).collect()), key=lambda r: r["account_id"])
    assert [{k: v for k, v in r.items() if k != "account_id"} for r in got] == online_rows(
        policy, accounts
    )
