"""The whole book as machine code: the policy compiled by numba into one loop over accounts.

The generator behind the online evaluator (:mod:`.pygen`) writes the policy a second way: a
function over column arrays whose loop body is the same ``if`` chains. Text has no place in
machine code, so every string the policy can see (actions, enum values, text literals)
becomes an integer code of one shared codebook, the action's code being its severity;
notices are numbered from 1 (0 = none) as in the polars plan; there is no trace; and a rule
that stops writes its outputs and moves on to the next account. numba compiles the function
once per policy (2-3 s, when the plan is made); a book runs chunk by chunk on its own arrays,
in slices on one thread per core with the GIL released. The reason slots and the text
columns are then made by the same polars projection as :class:`.polars_plan.PolarsPlan`'s,
so both engines return identical frames.

Integers are 64-bit in machine code as in polars and DuckDB (docs/policy.md, "Numeric
semantics"); the differential tests hold this engine to the online evaluator like the others.
"""

from __future__ import annotations

import ast
import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np
import polars as pl

from limitwise.kit.errors import InvalidInput
from limitwise.policy.batch import ACTION, LINE, MASK, NOTICE
from limitwise.policy.compiled import Policy
from limitwise.policy.polars_plan import check_book, decision_frame, declared_dtype
from limitwise.policy.pygen import (
    DecisionFunction,
    call_node,
    define,
    function_module,
    name_node,
)
from limitwise.policy.schemas import SEVERITY

OUTPUTS = ("o_action", "o_line", "o_mask", "o_notice")
OUTPUT_DTYPES = (np.int8, np.int64, np.int64, np.int16)
#: What the polars projection calls the kernel's outputs (action, line, reasons, notice).
CODE_COLUMNS = (ACTION, LINE, MASK, NOTICE)
#: One thread per core this process may use.
WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
SLICE_ROWS_MIN = 65_536
ARRAY_DTYPES = {"int": np.int64, "float": np.float64, "bool": np.bool_}


class Codebook(dict[str, int]):
    """Text -> integer code: actions first (code = severity), then the declared enum
    values, then any other literal as it is met (it can equal no value of a column)."""

    def __init__(self, policy: Policy) -> None:
        super().__init__({action: code for action, code in SEVERITY.items()})
        for info in policy.features.values():
            for value in info.values or ():
                self.setdefault(value, len(self))
        for type_, default in policy.variables.values():
            if type_ == "str" and isinstance(default, str):
                self.setdefault(default, len(self))

    def __missing__(self, text: str) -> int:
        self[text] = code = len(self)
        return code


class KernelFunction(DecisionFunction):
    """The policy as ``kernel(n, <feature arrays>, <output arrays>)``."""

    def __init__(self, policy: Policy) -> None:
        self.codebook = Codebook(policy)
        super().__init__(policy, self.codebook)
        self.notice_codes = {notice: i + 1 for i, notice in enumerate(policy.notices)}
        self.inputs: list[str] = []
        """The features the kernel reads, in the order of its array arguments."""

    def module(self, *, checked: bool = False) -> ast.Module:
        if checked:
            raise ValueError("the kernel runs on a book checked as a whole (check_book)")
        self.features_read = set()
        body, state = self.body(), self.initial_state()  # first: they say what is read
        self.inputs = [name for name in self.policy.features if name in self.features_read]
        loads = self.feature_loads(checked=False)
        loop = ast.For(
            target=ast.Name("i", ast.Store()),
            iter=call_node("range", name_node("n")),
            body=[*loads, *state, *body],
            orelse=[],
        )
        arguments = ["n", *self.array_names(), *OUTPUTS, *self.sub_line_names()]
        return function_module("kernel", arguments, [loop])

    def array_names(self) -> list[str]:
        return [f"c_{k}" for k in range(len(self.inputs))]

    def sub_line_names(self) -> list[str]:
        return [f"o_sub_{k}" for k in range(len(self.policy.sub_lines))]

    def feature_loads(self, *, checked: bool) -> list[ast.stmt]:
        return [
            self.assign(name, ast.Subscript(name_node(array), name_node("i"), ast.Load()))
            for name, array in zip(self.inputs, self.array_names(), strict=True)
        ]

    def notice_value(self, notice: str | None) -> ast.expr:
        return ast.Constant(0 if notice is None else self.notice_codes[notice])

    def record(self, value: ast.expr) -> list[ast.stmt]:
        return []

    def trace_start(self) -> list[ast.stmt]:
        return []

    def result(self) -> list[ast.stmt]:
        values = self.decision_values()
        values += [self.load(var) for var in self.policy.sub_lines.values()]
        targets = [*OUTPUTS, *self.sub_line_names()]
        stores: list[ast.stmt] = [
            ast.Assign([ast.Subscript(name_node(t), name_node("i"), ast.Store())], v)
            for t, v in zip(targets, values, strict=True)
        ]
        return [*stores, ast.Continue()]

    def band(self, breaks: tuple[int | float, ...], x: ast.Name) -> ast.expr:
        """``0 if x < b0 else 1 if x < b1 else ... n``: no ``bisect`` in machine code."""
        out: ast.expr = ast.Constant(len(breaks))
        for k in range(len(breaks) - 1, -1, -1):
            below = ast.Compare(x, [ast.Lt()], [ast.Constant(breaks[k])])
            out = ast.IfExp(below, ast.Constant(k), out)
        return out


class KernelPlan:
    """``evaluate(book)`` decides every account with the compiled kernel; the result has
    the columns of :meth:`.polars_plan.PolarsPlan.apply` in the same types."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        function = KernelFunction(policy)
        module = function.module()
        self.inputs = function.inputs
        self.codebook = function.codebook
        python = define(module, {"range": range})
        # nogil: the slices of a book run on threads, one per core, in machine code. (numba's
        # own parallel loops compile about four times slower for the same speed.)
        self.kernel = numba.njit(nogil=True, cache=False)(python)
        self.kernel(0, *self.empty_book(), *self._outputs(0))  # compile now, not on a book

    def empty_book(self) -> list[np.ndarray[Any, Any]]:
        """Zero-length arrays of the types the kernel reads."""
        kinds = [self.policy.features[name] for name in self.inputs]
        return [
            _read_only(np.zeros(0, dtype=np.int64 if info.values else ARRAY_DTYPES[info.type]))
            for info in kinds
        ]

    def _outputs(self, n: int) -> list[np.ndarray[Any, Any]]:
        outputs = [np.zeros(n, dtype=dtype) for dtype in OUTPUT_DTYPES]
        return outputs + [np.zeros(n, dtype=np.int64) for _ in self.policy.sub_lines]

    def evaluate(self, book: pl.DataFrame, *, keep: tuple[str, ...] = ()) -> pl.DataFrame:
        check_book(self.policy, book)
        coded, chunks = _chunks(self.coded(book))
        outputs = self._outputs(book.height)

        def run(chunk: tuple[int, int]) -> None:
            offset, length = chunk  # a chunk's arrays are read without a copy
            part = coded.slice(offset, length)
            arrays = [_read_only(column.to_numpy()) for column in part.iter_columns()]
            for start, stop in _slices(length, WORKERS):
                views = (out[offset + start : offset + stop] for out in outputs)
                self.kernel(stop - start, *(a[start:stop] for a in arrays), *views)

        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(run, chunks))
        names = [*CODE_COLUMNS, *(f"_lw_sub_{k}" for k in range(len(self.policy.sub_lines)))]
        columns = {name: pl.Series(a) for name, a in zip(names, outputs, strict=True)}
        frame = book.select(*keep, self.policy.current_line).with_columns(**columns)
        variables = [*CODE_COLUMNS, *self.policy.sub_lines.values()]
        env = {var: pl.col(name) for var, name in zip(variables, names, strict=True)}
        return decision_frame(self.policy, frame.lazy(), env, keep=keep).collect()

    def coded(self, book: pl.DataFrame) -> pl.DataFrame:
        """The features the kernel reads, each in its declared type, enum values as codebook
        codes (matched value by value in one parallel select: cheaper than a cast's hash)."""
        try:
            coded = book.select(self.code_expr(name) for name in self.inputs)
        except pl.exceptions.InvalidOperationError as exc:
            raise InvalidInput(
                f"the book does not fit the feature schema: {exc}", field="book", code="bad_feature"
            ) from None
        for name in self.inputs:
            values = self.policy.features[name].values
            if values and coded[name].null_count():
                bad = book[name].filter(~book[name].cast(pl.String).is_in(values)).unique()
                raise InvalidInput(
                    f"the book does not fit the feature schema: {name} has values outside "
                    f"{', '.join(values)}: {', '.join(map(str, bad.head(5)))}",
                    field="book",
                    code="bad_feature",
                )
        return coded

    def code_expr(self, name: str) -> pl.Expr:
        info = self.policy.features[name]
        values = info.values
        if not values:  # in its declared type: the kernel is compiled for exactly these
            return pl.col(name).cast(declared_dtype(info))
        text = pl.col(name)
        chain: Any = pl.when(text == values[0]).then(self.codebook[values[0]])
        for value in values[1:]:
            chain = chain.when(text == value).then(self.codebook[value])
        coded: pl.Expr = chain.otherwise(None).cast(pl.Int64).alias(name)
        return coded


def _read_only(array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """numba compiles a kernel per argument type, and a read-only array is a type of its
    own: polars hands most columns over without a copy, read-only, so every input is."""
    array.setflags(write=False)
    return array


def _chunks(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[int, int]]]:
    """The frame and the (offset, length) of the row chunks all its columns share (a frame
    read from parquet has one per row group); columns chunked differently are made one."""
    lengths = {tuple(column.chunk_lengths()) for column in frame.iter_columns()}
    if len(lengths) != 1:
        return frame.rechunk(), [(0, frame.height)]
    offsets, start = [], 0
    for length in lengths.pop():
        offsets.append((start, length))
        start += length
    return frame, offsets


def _slices(length: int, parts: int) -> list[tuple[int, int]]:
    """``length`` rows cut into up to ``parts`` ranges of at least ``SLICE_ROWS_MIN`` rows
    (a book read in one chunk still keeps every core busy)."""
    count = max(1, min(parts, length // SLICE_ROWS_MIN))
    bounds = [length * k // count for k in range(count + 1)]
    return list(itertools.pairwise(bounds))
