"""A seeded synthetic book of accounts whose outcomes follow a known risk model.

Used to train and test the behaviour scorecard before real servicing history exists. Each
account has a hidden credit quality ``q`` ~ N(0, 1) that shapes its behaviour; the outcome
``bad_12m`` (90+ days past due within 12 months) is then drawn from the features alone:

    logit P(bad) = -3.6 + 2.0 * utilisation_now + 0.9 * utilisation_avg_6m
                   - 0.07 * min(on_time_streak_months, 24) + 0.03 * min(days_past_due_max_12m, 90)
                   + 0.15 * min(draws_last_30d, 10) - 0.015 * min(months_active, 60)
                   - 0.3 * min(early_payoff_count, 4)

so a scorecard trained on the book can be checked against the truth (signs, ordering).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from limitwise.scoring.behaviour import ACCOUNT_ID, OUTCOME

RISK_MODEL_INTERCEPT = -3.6
RISK_MODEL: dict[str, tuple[float, float]] = {
    # feature: (coefficient on the logit, cap applied before multiplying)
    "utilisation_now": (2.0, 2.0),
    "utilisation_avg_6m": (0.9, 2.0),
    "on_time_streak_months": (-0.07, 24),
    "days_past_due_max_12m": (0.03, 90),
    "draws_last_30d": (0.15, 10),
    "months_active": (-0.015, 60),
    "early_payoff_count": (-0.3, 4),
}


def bad_probability(book: pl.DataFrame) -> pl.Series:
    """The true 12-month bad probability of each account under :data:`RISK_MODEL`."""
    logit = pl.lit(RISK_MODEL_INTERCEPT)
    for name, (coefficient, cap) in RISK_MODEL.items():
        logit = logit + coefficient * pl.col(name).clip(upper_bound=cap)
    return book.select((1.0 / (1.0 + (-logit).exp())).alias("bad_probability")).to_series()


def generate_book(*, accounts: int, seed: int) -> pl.DataFrame:
    """``accounts`` synthetic accounts with behaviour features and a drawn ``bad_12m``."""
    rng = np.random.default_rng(seed)
    quality = rng.standard_normal(accounts)
    months_active = np.clip(np.rint(np.exp(rng.normal(2.6, 0.8, accounts))), 1, 96).astype(int)
    utilisation_avg = np.clip(rng.beta(2, 3, accounts) - 0.12 * quality, 0, 1.2)
    utilisation_now = np.clip(utilisation_avg + rng.normal(0, 0.12, accounts), 0, 1.3)
    was_late = rng.random(accounts) < 1 / (1 + np.exp(2.2 + 1.1 * quality))
    dpd_max = np.where(
        was_late, np.clip(np.rint(np.exp(rng.normal(1.8 - 0.4 * quality, 1.0))), 1, 180), 0
    ).astype(int)
    streak_cap = np.minimum(months_active, 36)
    streak = np.where(
        was_late, rng.integers(0, np.maximum(np.minimum(streak_cap, 12), 1)), streak_cap
    ).astype(int)
    draws = rng.poisson(0.8 + 0.5 * np.maximum(-quality, 0) + 0.8 * utilisation_now).astype(int)
    early = rng.poisson(0.25 * months_active / 12 * np.exp(0.4 * quality)).astype(int)
    book = pl.DataFrame(
        {
            ACCOUNT_ID: [f"SYN{seed:04d}-{i:07d}" for i in range(accounts)],
            "utilisation_now": np.round(utilisation_now, 4),
            "utilisation_avg_6m": np.round(utilisation_avg, 4),
            "on_time_streak_months": streak,
            "days_past_due_max_12m": dpd_max,
            "draws_last_30d": draws,
            "months_active": months_active,
            "early_payoff_count": early,
        }
    )
    outcome = rng.random(accounts) < bad_probability(book).to_numpy()
    return book.with_columns(pl.Series(OUTCOME, outcome.astype(np.int8)))
