"""Policy evaluation benchmark: one account online, and the whole book.

Online (one process, same accounts for every engine): per-decision p50/p99 of the
limitwise evaluator with its full trace, the same policy hand-written in Python, and
zen-engine on an equivalent JDM graph. Whole book: the compiled polars plan and the numba
kernel next to hand-written DuckDB SQL of the same policy on 1M and 10M synthetic accounts,
each run in its own subprocess that reads the book from parquet (the kernel's one-off
compile is timed apart); "book MB" is the resident size after
loading, "peak MB" the peak resident size while evaluating (VmHWM, reset after loading).

Before timing, every engine must agree with the policy engine on every sampled account.

    PYTHONPATH=src python benchmarks/policy_eval.py [--online-accounts 20000]
        [--book-sizes 1000000,10000000]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "benchmarks")]

import duckdb  # noqa: E402
import polars as pl  # noqa: E402
import zen  # noqa: E402

from limitwise.policy.kernel import KernelPlan  # noqa: E402
from limitwise.policy.online import PolicyEvaluator  # noqa: E402
from limitwise.policy.polars_plan import PolarsPlan  # noqa: E402
from limitwise.policy.sql import compile_sql  # noqa: E402
from limitwise.policy.validate import load_file  # noqa: E402
from policy_default_by_hand import (  # noqa: E402
    DUCKDB_SQL,
    decide,
    synthetic_book,
    zen_decision,
    zen_graph,
)

POLICY = ROOT / "policies" / "default.yaml"


def percentiles_us(samples_ns: list[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    return ordered[len(ordered) // 2] / 1000, ordered[int(len(ordered) * 0.99)] / 1000


def time_each(fn: Callable[[dict[str, Any]], object], accounts: list[dict[str, Any]]) -> list[int]:
    for features in accounts[:2000]:  # warm up
        fn(features)
    gc.collect()
    clock = time.perf_counter_ns
    samples = []
    for features in accounts:
        start = clock()
        fn(features)
        samples.append(clock() - start)
    return samples


def online(n: int) -> None:
    accounts = synthetic_book(n, seed=1).drop("account_id").to_dicts()
    evaluator = PolicyEvaluator(load_file(POLICY))
    zen_engine = zen.ZenEngine()
    graph = zen_engine.create_decision(json.dumps(zen_graph()))

    def ours(f: dict[str, Any]) -> tuple[str, int, int, str | None, int]:
        d = evaluator.evaluate(f)
        return d.action, d.line_fen, d.reason_mask, d.notice, d.sub_lines["car_owner"]

    disagree = {
        "hand-written Python": sum(ours(f) != decide(f) for f in accounts),
        "zen-engine": sum(ours(f) != zen_decision(graph.evaluate(f)) for f in accounts),
    }
    print(f"online: {n} synthetic accounts; disagreements with limitwise: {disagree}")
    traced = evaluator.evaluate(accounts[0])
    print(f"  trace of one decision: {len(traced.trace)} nodes, e.g. {traced.trace[-2]}")
    rows = [
        ("limitwise, trace + input checks", lambda f: evaluator.evaluate(f)),
        ("limitwise, trace, trusted input", lambda f: evaluator.evaluate(f, checked=False)),
        ("hand-written Python", decide),
        ("zen-engine (JDM graph)", graph.evaluate),
        ("zen-engine with trace", lambda f: graph.evaluate(f, {"trace": True})),
    ]
    results = {name: percentiles_us(time_each(fn, accounts)) for name, fn in rows}
    zen_p50 = results["zen-engine (JDM graph)"][0]
    print(f"  {'engine':34} {'p50 µs':>8} {'p99 µs':>8} {'zen p50 / this p50':>20}")
    for name, (p50, p99) in results.items():
        print(f"  {name:34} {p50:8.2f} {p99:8.2f} {zen_p50 / p50:19.1f}x")


def rss_mb() -> float:
    """Current resident memory (not the peak) from /proc."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_mb() -> float:
    """Peak resident memory since the last reset (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def book_worker(engine: str, path: str) -> None:
    """Runs in a subprocess: load the book, evaluate it once, print one JSON line."""
    book = pl.read_parquet(path)
    data_mb = rss_mb()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    start = time.perf_counter()
    compile_seconds = 0.0
    if engine == "polars":
        plan = PolarsPlan(load_file(POLICY)).apply(book.lazy(), keep=("account_id",))
        out = plan.collect(engine="streaming")
    elif engine == "kernel":
        kernel = KernelPlan(load_file(POLICY))  # numba compiles here, once per policy
        compile_seconds = time.perf_counter() - start
        start = time.perf_counter()
        out = kernel.evaluate(book, keep=("account_id",))
    else:
        con = duckdb.connect()
        con.register("book", book)
        sql = DUCKDB_SQL if engine == "duckdb" else compile_sql(load_file(POLICY))
        out = con.sql(sql).pl()
    seconds = time.perf_counter() - start
    assert out.height == book.height
    print(
        json.dumps(
            {
                "seconds": seconds,
                "compile_seconds": compile_seconds,
                "peak_mb": peak_mb(),
                "data_mb": data_mb,
            }
        )
    )


def check_book_agreement(n: int) -> tuple[bool, int]:
    """Whether the kernel's frame equals the polars plan's, and on how many accounts the
    plan and hand-written DuckDB disagree."""
    book = synthetic_book(n, seed=3)
    ours = PolarsPlan(load_file(POLICY)).apply(book.lazy(), keep=("account_id",)).collect()
    kernel = KernelPlan(load_file(POLICY)).evaluate(book, keep=("account_id",))
    con = duckdb.connect()
    con.register("book", book)
    hand = con.sql(DUCKDB_SQL).pl()
    joined = ours.join(hand, on="account_id", suffix="_hand")
    assert joined.height == n
    return kernel.equals(ours), joined.filter(
        (pl.col("action") != pl.col("action_hand"))
        | (pl.col("line_fen") != pl.col("line_fen_hand"))
        | (pl.col("reason_mask") != pl.col("reason_mask_hand"))
        | (pl.col("notice").fill_null("") != pl.col("notice_hand").fill_null(""))
        | (pl.col("sub_line_car_owner_fen") != pl.col("car_line_fen"))
    ).height


def whole_book(sizes: list[int]) -> None:
    kernel_agrees, disagreements = check_book_agreement(200_000)
    print(
        f"\nwhole book: polars plan vs hand-written DuckDB SQL disagree on {disagreements} of "
        f"200000 accounts; kernel frame equals the polars plan's: {kernel_agrees}"
    )
    print(
        f"  {'accounts':>10} {'engine':24} {'seconds':>8} {'M acc/s':>8} {'peak MB':>8} "
        f"{'book MB':>9} {'vs DuckDB':>9}"
    )
    for n in sizes:
        path = Path(tempfile.mkdtemp()) / "book.parquet"
        synthetic_book(n, seed=2).write_parquet(path)
        runs = {}
        engines = ("duckdb", "polars", "kernel")
        if n <= 1_000_000:
            engines += ("duckdb-compiled",)
        for engine in engines:
            done = subprocess.run(
                [sys.executable, __file__, "--worker", engine, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[engine] = json.loads(done.stdout.strip().splitlines()[-1])
        labels = {
            "duckdb": "hand-written DuckDB",
            "polars": "limitwise polars",
            "kernel": "limitwise kernel",
            "duckdb-compiled": "limitwise SQL on DuckDB",
        }
        for engine, r in runs.items():
            label = labels[engine]
            rate = n / r["seconds"] / 1e6
            ratio = runs["duckdb"]["seconds"] / r["seconds"]
            compiled = (
                f"  (+{r['compile_seconds']:.1f} s to compile)" if r["compile_seconds"] else ""
            )
            print(
                f"  {n:>10} {label:24} {r['seconds']:8.3f} {rate:8.2f} {r['peak_mb']:8.0f} "
                f"{r['data_mb']:9.0f} {ratio:8.2f}x{compiled}"
            )
        shutil.rmtree(path.parent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--online-accounts", type=int, default=20_000)
    parser.add_argument("--book-sizes", default="1000000,10000000")
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "PARQUET"))
    args = parser.parse_args()
    if args.worker:
        book_worker(args.worker[0], args.worker[1])
        return
    online(args.online_accounts)
    whole_book([int(s) for s in args.book_sizes.split(",") if s])


if __name__ == "__main__":
    main()
