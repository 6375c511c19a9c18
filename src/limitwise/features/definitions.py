"""The one definition of every existing-line feature: a polars plan over the source frames.

:func:`plan` takes the frames the repository read as of a business date — the whole book,
or the same statements restricted to one account — and computes one row per account.
Both paths run this plan, so they cannot disagree; ``tests/features`` proves it on random
books. Nothing here loops over accounts, and nothing reads a row dated after the as-of
date except ``line_changed`` events, which only tell what the line was *before* them.
See docs/features.md for each definition in words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

#: Features carried from the account's application decision until an event refreshes them.
CARRIED: dict[str, pl.DataType] = {
    "product": pl.String(),
    "age_years": pl.Int64(),
    "kyc_verified": pl.Boolean(),
    "app_score": pl.Int64(),
    "bureau_score": pl.Int64(),
    "verified_income_monthly_fen": pl.Int64(),
    "vehicle_value_fen": pl.Int64(),
    "multi_lender_count": pl.Int64(),
    "risk_appetite": pl.Float64(),
}
#: What an account without an application decision (opened by an operator) is given.
CARRIED_DEFAULTS: dict[str, str | int | bool | float] = {
    "product": "standard",
    "age_years": 30,
    "kyc_verified": True,
    "app_score": 300,
    "bureau_score": 650,
    "verified_income_monthly_fen": 0,
    "vehicle_value_fen": 0,
    "multi_lender_count": 0,
    "risk_appetite": 1.0,
}
#: Latest event value that replaces a carried feature: feature → (event kind, payload key).
REFRESHED = {
    "bureau_score": ("bureau_update", "bureau_score"),
    "multi_lender_count": ("bureau_update", "multi_lender_count"),
    "vehicle_value_fen": ("revaluation", "vehicle_value_fen"),
}
ANOMALY_KINDS = {
    "fraud_flag": "fraud_confirmed",
    "device_anomaly": "device_anomaly",
    "login_anomaly": "login_anomaly",
}
ANOMALY_WINDOW_DAYS = 30
DPD_WINDOWS_DAYS = {"dpd_max_3m": 92, "dpd_max_12m": 366}
EARLY_PAYOFF_WINDOW_DAYS = 365
UTILISATION_MONTHS = 6
UTILISATION_MAX = 2.0
#: The 6-month average is exact to a millionth of the line.
UTILISATION_SCALE = 1_000_000
RISK_APPETITE_BOUNDS = (0.5, 1.5)
FIRST_BUCKET = "M0"

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "accounts": {
        "account_id": pl.Int64(),
        "ref": pl.String(),
        "product_id": pl.Int64(),
        "opened_on": pl.Date(),
        "line_fen_now": pl.Int64(),
    },
    "signals": {
        "event_id": pl.Int64(),
        "account_id": pl.Int64(),
        "kind": pl.String(),
        "as_of": pl.Date(),
        "payload": pl.String(),
    },
    "line_changes": {
        "event_id": pl.Int64(),
        "account_id": pl.Int64(),
        "as_of": pl.Date(),
        "payload": pl.String(),
    },
    "draws": {
        "draw_id": pl.Int64(),
        "account_id": pl.Int64(),
        "amount_fen": pl.Int64(),
        "drawn_on": pl.Date(),
    },
    "instalments": {
        "instalment_id": pl.Int64(),
        "draw_id": pl.Int64(),
        "account_id": pl.Int64(),
        "repayment_type": pl.String(),
        "due_date": pl.Date(),
        "principal_due_fen": pl.Int64(),
        "interest_scheduled_fen": pl.Int64(),
        "interest_accrued_fen": pl.Int64(),
    },
    "paid": {
        "account_id": pl.Int64(),
        "instalment_id": pl.Int64(),
        "draw_id": pl.Int64(),
        "component": pl.String(),
        "amount_fen": pl.Int64(),
        "effective_date": pl.Date(),
    },
    "applications": {"account_id": pl.Int64(), "features_json": pl.String()},
    "products": {"product_id": pl.Int64(), "grace_days": pl.Int64()},
}


@dataclass(frozen=True)
class Sources:
    """The rows the features read, as of one business date, as frames."""

    frames: dict[str, pl.DataFrame]
    #: The risk-appetite factor in force (decimal text), or None when none was ever set.
    macro: str | None

    def lazy(self, name: str) -> pl.LazyFrame:
        return self.frames[name].lazy()


def months_between(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """Whole months from ``start`` to ``end`` (0 if ``end`` is earlier)."""
    months = (
        (end.dt.year() - start.dt.year()) * 12
        + end.dt.month().cast(pl.Int32)
        - start.dt.month().cast(pl.Int32)
        - (end.dt.day() < start.dt.day()).cast(pl.Int32)
    )
    return months.clip(lower_bound=0).cast(pl.Int64)


def _days_before(as_of: dt.date, day: pl.Expr) -> pl.Expr:
    return (pl.lit(as_of) - day).dt.total_days()


def month_ends(as_of: dt.date) -> list[dt.date]:
    """The last days of the :data:`UTILISATION_MONTHS` months before ``as_of``'s month."""
    ends = []
    first = as_of.replace(day=1)
    for _ in range(UTILISATION_MONTHS):
        end = first - dt.timedelta(days=1)
        ends.append(end)
        first = end.replace(day=1)
    return ends


def _payload(name: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col("payload").str.json_path_match(f"$.{name}").cast(dtype).alias(name)


# --- lateness --------------------------------------------------------------------------------


def _dpd_now(src: Sources, as_of: dt.date) -> pl.LazyFrame:
    """Days since the oldest due date before ``as_of`` whose principal or interest was not
    paid in full by then (0 within the product's grace days), on draws not paid off."""
    paid = src.lazy("paid")
    principal = pl.col("component") == "principal"
    by_instalment = paid.group_by("instalment_id").agg(
        pl.col("amount_fen").filter(principal).sum().alias("principal_paid"),
        pl.col("amount_fen").filter(~principal).sum().alias("interest_paid"),
    )
    repaid = paid.filter(principal).group_by("draw_id").agg(pl.col("amount_fen").sum().alias("r"))
    open_draws = (
        src.lazy("draws")
        .join(repaid, on="draw_id", how="left")
        .filter(pl.col("amount_fen") > pl.col("r").fill_null(0))
        .select("draw_id")
    )
    interest_due = (
        pl.when(pl.col("repayment_type") == "daily")
        .then(pl.col("interest_accrued_fen"))
        .otherwise(pl.max_horizontal("interest_scheduled_fen", "interest_accrued_fen"))
    )
    oldest = (
        src.lazy("instalments")
        .join(open_draws, on="draw_id", how="semi")
        .join(by_instalment, on="instalment_id", how="left")
        .filter(
            pl.col("due_date") < as_of,
            (pl.col("principal_paid").fill_null(0) < pl.col("principal_due_fen"))
            | (pl.col("interest_paid").fill_null(0) < interest_due),
        )
        .group_by("account_id")
        .agg(pl.col("due_date").min().alias("oldest_due"))
    )
    days = _days_before(as_of, pl.col("oldest_due"))
    return (
        src.lazy("accounts")
        .join(src.lazy("products"), on="product_id", how="left")
        .join(oldest, on="account_id", how="left")
        .select(
            "account_id",
            pl.when(days > pl.col("grace_days").fill_null(0))
            .then(days)
            .otherwise(0)
            .fill_null(0)
            .cast(pl.Int64)
            .alias("dpd_now"),
        )
    )


def _episodes(src: Sources, as_of: dt.date) -> pl.LazyFrame:
    """Lateness episodes from the bucket moves: one starts when the account leaves the
    first bucket (dated back to its first late day) and ends when it returns; an ended
    episode's worst is its length. Per account: the worst ended in each window, the last
    cure, and the start of the last episode (still open when no end followed it)."""
    moves = (
        src.lazy("signals")
        .filter(pl.col("kind") == "bucket_changed")
        .with_columns(
            _payload("from", pl.String()),
            _payload("to", pl.String()),
            _payload("days_past_due", pl.Int64()),
        )
        .sort("account_id", "as_of", "event_id")
    )
    starts = pl.col("from") == FIRST_BUCKET
    ends = (pl.col("to") == FIRST_BUCKET) & ~starts
    first_late_day = pl.col("as_of") - pl.duration(
        days=(pl.col("days_past_due") - 1).clip(lower_bound=0)
    )
    moves = moves.with_columns(
        pl.when(starts).then(first_late_day).forward_fill().over("account_id").alias("started"),
    ).with_columns(
        pl.when(ends & pl.col("started").is_not_null())
        .then((pl.col("as_of") - pl.col("started")).dt.total_days())
        .alias("worst"),
    )
    ago = _days_before(as_of, pl.col("as_of"))
    return moves.group_by("account_id").agg(
        *(
            pl.col("worst").filter(ago <= days).max().alias(f"{name}_ended")
            for name, days in DPD_WINDOWS_DAYS.items()
        ),
        pl.col("started").filter(starts).last().alias("last_started"),
        pl.col("as_of").filter(ends).max().alias("last_cure"),
        pl.col("event_id").filter(starts).max().alias("last_start_id"),
        pl.col("event_id").filter(ends).max().alias("last_end_id"),
    )


# --- balances over time ----------------------------------------------------------------------


def _principal_steps(src: Sources) -> pl.LazyFrame:
    """Outstanding principal after each day with a draw or a principal repayment."""
    drawn = src.lazy("draws").select(
        "account_id", pl.col("drawn_on").alias("day"), pl.col("amount_fen").alias("delta")
    )
    repaid = (
        src.lazy("paid")
        .filter(pl.col("component") == "principal")
        .select("account_id", pl.col("effective_date").alias("day"), -pl.col("amount_fen"))
        .rename({"amount_fen": "delta"})
    )
    return (
        pl.concat([drawn, repaid])
        .group_by("account_id", "day")
        .agg(pl.col("delta").sum())
        .sort("account_id", "day")
        .with_columns(pl.col("delta").cum_sum().over("account_id").alias("principal"))
        .select("account_id", "day", "principal")
        .sort("day")
    )


def _line_before(src: Sources) -> pl.LazyFrame:
    """For each day with line changes: the line before that day's first change."""
    return (
        src.lazy("line_changes")
        .sort("event_id")
        .group_by("account_id", "as_of")
        .agg(pl.col("payload").first())
        .select(
            "account_id",
            pl.col("as_of").alias("change_day"),
            _payload("from_fen", pl.Int64()).alias("line_before"),
        )
        .sort("change_day")
    )


def _balances(src: Sources, as_of: dt.date) -> pl.LazyFrame:
    """Principal, line and utilisation at the end of ``as_of`` and of the month-ends before
    it (``is_now`` marks the as-of row; month-ends before the opening are left out)."""
    days = pl.DataFrame(
        {"day": [as_of, *month_ends(as_of)], "is_now": [True] + [False] * UTILISATION_MONTHS}
    ).lazy()
    grid = (
        src.lazy("accounts")
        .select("account_id", "opened_on", "line_fen_now")
        .join(days, how="cross")
        .filter(pl.col("is_now") | (pl.col("day") >= pl.col("opened_on")))
        .with_columns((pl.col("day") + pl.duration(days=1)).alias("next_day"))
        .sort("day")
    )
    # Both sides are sorted by their date just above (polars cannot check it per group).
    with_principal = grid.join_asof(
        _principal_steps(src),
        on="day",
        by="account_id",
        strategy="backward",
        check_sortedness=False,
    )
    with_line = with_principal.sort("next_day").join_asof(
        _line_before(src),
        left_on="next_day",
        right_on="change_day",
        by="account_id",
        strategy="forward",
        check_sortedness=False,
    )
    line = pl.col("line_before").fill_null(pl.col("line_fen_now"))
    principal = pl.col("principal").fill_null(0)
    return with_line.select(
        "account_id",
        "is_now",
        line.alias("line_fen"),
        pl.when(line > 0)
        .then(pl.min_horizontal(principal / line, pl.lit(UTILISATION_MAX)))
        .otherwise(0.0)
        .alias("utilisation"),
    )


def _utilisation(src: Sources, as_of: dt.date) -> pl.LazyFrame:
    balances = _balances(src, as_of)
    now = balances.filter("is_now").select(
        "account_id",
        pl.col("line_fen").alias("current_line_fen"),
        pl.col("utilisation").alias("utilisation_now"),
    )
    # Summed in millionths (integers: exact in any order, so the book and one account agree
    # to the last bit), divided once.
    millionths = (pl.col("utilisation") * UTILISATION_SCALE).round().cast(pl.Int64)
    month_end = (
        balances.filter(~pl.col("is_now"))
        .group_by("account_id")
        .agg((millionths.sum() / (pl.len() * UTILISATION_SCALE)).alias("utilisation_avg_6m"))
    )
    return now.join(month_end, on="account_id", how="left").with_columns(
        pl.col("utilisation_avg_6m").fill_null(pl.col("utilisation_now"))
    )


# --- activity --------------------------------------------------------------------------------


def _draw_counts(src: Sources, as_of: dt.date) -> pl.LazyFrame:
    ago = _days_before(as_of, pl.col("drawn_on"))
    return (
        src.lazy("draws")
        .group_by("account_id")
        .agg(
            (ago < 7).sum().cast(pl.Int64).alias("draws_last_7d"),
            (ago < 30).sum().cast(pl.Int64).alias("draws_last_30d"),
        )
    )


def _early_payoffs(src: Sources, as_of: dt.date) -> pl.LazyFrame:
    """Draws whose principal was repaid in full before their final due date: ever, and in
    the last 12 months (dated by the day the last principal came in)."""
    paid = (
        src.lazy("paid")
        .filter(pl.col("component") == "principal")
        .group_by("draw_id", "effective_date")
        .agg(pl.col("amount_fen").sum())
        .sort("draw_id", "effective_date")
        .with_columns(pl.col("amount_fen").cum_sum().over("draw_id").alias("repaid"))
    )
    final_due = src.lazy("instalments").group_by("draw_id").agg(pl.col("due_date").max())
    payoffs = (
        paid.join(
            src.lazy("draws").select("draw_id", "account_id", pl.col("amount_fen").alias("drawn")),
            on="draw_id",
        )
        .filter(pl.col("repaid") >= pl.col("drawn"))
        .group_by("draw_id", "account_id")
        .agg(pl.col("effective_date").min().alias("paid_off"))
        .join(final_due, on="draw_id")
        .filter(pl.col("paid_off") < pl.col("due_date"))
    )
    recent = _days_before(as_of, pl.col("paid_off")) <= EARLY_PAYOFF_WINDOW_DAYS
    return payoffs.group_by("account_id").agg(
        pl.len().cast(pl.Int64).alias("early_payoff_count"),
        recent.sum().cast(pl.Int64).alias("early_payoff_count_12m"),
    )


def _last_days(src: Sources, as_of: dt.date) -> pl.LazyFrame:
    activity = (
        src.lazy("signals")
        .filter(pl.col("kind").is_in(["drawn", "repaid"]))
        .group_by("account_id")
        .agg(pl.col("as_of").max().alias("last_activity"))
    )
    changes = (
        src.lazy("line_changes")
        .filter(pl.col("as_of") <= as_of)
        .group_by("account_id")
        .agg(pl.col("as_of").max().alias("last_line_change"))
    )
    return activity.join(changes, on="account_id", how="full", coalesce=True)


def _anomalies(src: Sources, as_of: dt.date) -> pl.LazyFrame:
    recent = src.lazy("signals").filter(_days_before(as_of, pl.col("as_of")) <= ANOMALY_WINDOW_DAYS)
    return recent.group_by("account_id").agg(
        (pl.col("kind") == kind).any().alias(name) for name, kind in ANOMALY_KINDS.items()
    )


# --- facts carried and refreshed -------------------------------------------------------------


def _carried(src: Sources) -> pl.LazyFrame:
    """What the application decision saw, for what the book cannot tell."""
    return (
        src.lazy("applications")
        .group_by("account_id")
        .agg(pl.col("features_json").first())
        .select(
            "account_id",
            pl.lit(True).alias("has_application"),
            pl.col("features_json").str.json_decode(pl.Struct(CARRIED)).alias("carried"),
        )
        .unnest("carried")
    )


def _refreshed(src: Sources) -> pl.LazyFrame:
    """The latest value each refreshing event kind gave, per account."""
    events = src.lazy("signals").filter(
        pl.col("kind").is_in([kind for kind, _ in REFRESHED.values()])
    )
    return (
        events.with_columns(
            pl.when(pl.col("kind") == kind)
            .then(pl.col("payload").str.json_path_match(f"$.{key}").cast(pl.Int64))
            .alias(f"new_{name}")
            for name, (kind, key) in REFRESHED.items()
        )
        .sort("as_of", "event_id")
        .group_by("account_id")
        .agg(pl.col(f"new_{name}").drop_nulls().last() for name in REFRESHED)
    )


# --- the plan --------------------------------------------------------------------------------


def plan(src: Sources, as_of: dt.date) -> pl.LazyFrame:
    """Every existing-line feature but the behaviour score, one row per account."""
    frame = src.lazy("accounts").select("account_id", "ref", "opened_on")
    for part in (
        _dpd_now(src, as_of),
        _episodes(src, as_of),
        _utilisation(src, as_of),
        _draw_counts(src, as_of),
        _early_payoffs(src, as_of),
        _last_days(src, as_of),
        _anomalies(src, as_of),
        _carried(src),
        _refreshed(src),
    ):
        frame = frame.join(part, on="account_id", how="left")
    open_episode = pl.col("last_start_id").fill_null(0) > pl.col("last_end_id").fill_null(0)
    # An open episode's worst so far: the days past due it reached on the as-of date (the
    # account may have been cured today, before close of business saw it).
    open_worst = pl.when(open_episode).then(
        (pl.lit(as_of) - pl.col("last_started")).dt.total_days() + 1
    )
    low, high = RISK_APPETITE_BOUNDS
    macro = None if src.macro is None else float(src.macro)
    risk_appetite = pl.lit(macro) if macro is not None else pl.col("risk_appetite")
    as_of_lit = pl.lit(as_of)
    return frame.with_columns(
        pl.lit("existing").alias("segment"),
        *(
            pl.max_horizontal("dpd_now", pl.col(f"{name}_ended").fill_null(0), open_worst)
            .cast(pl.Int64)
            .alias(name)
            for name in DPD_WINDOWS_DAYS
        ),
        pl.when((pl.col("dpd_now") > 0) | open_episode)
        .then(0)
        .otherwise(months_between(pl.col("last_cure").fill_null(pl.col("opened_on")), as_of_lit))
        .cast(pl.Int64)
        .alias("on_time_streak_months"),
        months_between(pl.col("opened_on"), as_of_lit).alias("months_active"),
        months_between(pl.col("last_activity").fill_null(pl.col("opened_on")), as_of_lit).alias(
            "months_since_last_activity"
        ),
        months_between(pl.col("last_line_change").fill_null(pl.col("opened_on")), as_of_lit).alias(
            "months_since_last_line_change"
        ),
        *(pl.col(c).fill_null(0) for c in ("draws_last_7d", "draws_last_30d")),
        *(pl.col(c).fill_null(0) for c in ("early_payoff_count", "early_payoff_count_12m")),
        *(pl.col(name).fill_null(False) for name in ANOMALY_KINDS),
        pl.col("has_application").fill_null(False),
        *(
            pl.coalesce(f"new_{name}", name, pl.lit(CARRIED_DEFAULTS[name])).alias(name)
            for name in REFRESHED
        ),
        *(
            pl.col(name).fill_null(pl.lit(CARRIED_DEFAULTS[name]))
            for name in CARRIED
            if name not in REFRESHED and name != "risk_appetite"
        ),
        risk_appetite.fill_null(CARRIED_DEFAULTS["risk_appetite"])
        .clip(low, high)
        .alias("risk_appetite"),
    )
