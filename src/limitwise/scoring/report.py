"""An offline HTML evaluation report: metrics, score bands and four plots as inline PNGs.

Needs matplotlib (the ``train`` extra). Images are embedded as base64 so the page opens
anywhere without a network or a CDN.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import polars as pl

from limitwise.scoring.metrics import Evaluation
from limitwise.scoring.schemas import Scorecard


def _figure_png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _cumulative(frame: pl.DataFrame) -> pl.DataFrame:
    """Per distinct score (ascending): cumulative shares of bads and goods at or below it."""
    grouped = (
        frame.group_by("score")
        .agg(bads=pl.col("bad").sum(), goods=(1 - pl.col("bad")).sum())
        .sort("score")
    )
    return grouped.with_columns(
        bad_share=pl.col("bads").cum_sum() / grouped["bads"].sum(),
        good_share=pl.col("goods").cum_sum() / grouped["goods"].sum(),
    )


def plots(scores: pl.Series, bad: pl.Series, evaluation: Evaluation) -> dict[str, str]:
    """ROC, KS, score distribution and calibration charts as base64 PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = pl.DataFrame({"score": scores.cast(pl.Float64), "bad": bad.cast(pl.Int64)})
    cumulative = _cumulative(frame)
    images: dict[str, str] = {}

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, *cumulative["good_share"]], [0, *cumulative["bad_share"]], label="scorecard")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random")
    ax.set(
        xlabel="false positive rate (goods declined)",
        ylabel="true positive rate (bads caught)",
        title=f"ROC (AUC {evaluation.auc:.3f})",
    )
    ax.legend(loc="lower right")
    images["ROC"] = _figure_png(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(cumulative["score"], cumulative["bad_share"], label="bads")
    ax.plot(cumulative["score"], cumulative["good_share"], label="goods")
    ax.set(xlabel="score", ylabel="cumulative share", title=f"KS {evaluation.ks:.3f}")
    ax.legend()
    images["KS"] = _figure_png(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, value in (("goods", 0), ("bads", 1)):
        ax.hist(
            frame.filter(pl.col("bad") == value)["score"],
            bins=40,
            alpha=0.6,
            density=True,
            label=label,
        )
    ax.set(xlabel="score", ylabel="density", title="Score distribution")
    ax.legend()
    images["Score distribution"] = _figure_png(fig)

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    predicted = [b.predicted_bad_rate for b in evaluation.bands]
    observed = [b.bad_rate for b in evaluation.bands]
    top = max([*predicted, *observed, 0.01])
    ax.plot([0, top], [0, top], linestyle="--", color="grey")
    ax.plot(predicted, observed, marker="o")
    ax.set(
        xlabel="predicted bad rate (from scaling)",
        ylabel="observed bad rate",
        title="Calibration by score band",
    )
    images["Calibration"] = _figure_png(fig)
    plt.close("all")
    return images


def render_html(
    scorecard: Scorecard, evaluation: Evaluation, images: dict[str, str], data_name: str
) -> str:
    e = html.escape
    band_rows = "".join(
        f"<tr><td>{b.band}</td><td>{b.score_min:.0f}–{b.score_max:.0f}</td><td>{b.rows}</td>"
        f"<td>{b.bads}</td><td>{b.bad_rate:.2%}</td><td>{b.predicted_bad_rate:.2%}</td></tr>"
        for b in evaluation.bands
    )
    figures = "".join(
        f'<figure><img alt="{e(title)}" src="data:image/png;base64,{png}">'
        f"<figcaption>{e(title)}</figcaption></figure>"
        for title, png in images.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Scorecard evaluation: {e(scorecard.version)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
figure{{display:inline-block}}</style>
</head><body>
<h1>Scorecard evaluation</h1>
<p>Model <b>{e(scorecard.version)}</b> ({e(scorecard.purpose.value)}), trained on
{scorecard.trained_on.isoformat()}; data {e(data_name)}: {evaluation.rows} rows,
bad rate {evaluation.bad_rate:.2%}.</p>
<table><tr><th>AUC</th><th>KS</th><th>Gini</th><th>PSI vs training</th></tr>
<tr><td>{evaluation.auc:.4f}</td><td>{evaluation.ks:.4f}</td><td>{evaluation.gini:.4f}</td>
<td>{evaluation.psi:.4f}</td></tr></table>
<h2>Score bands (training deciles)</h2>
<table><tr><th>band</th><th>scores</th><th>rows</th><th>bads</th><th>bad rate</th>
<th>predicted bad rate</th></tr>{band_rows}</table>
<h2>Plots</h2>{figures}
</body></html>
"""


def write_report(
    directory: Path,
    *,
    scorecard: Scorecard,
    evaluation: Evaluation,
    scores: pl.Series,
    bad: pl.Series,
    data_name: str,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "report.html"
    page = render_html(scorecard, evaluation, plots(scores, bad, evaluation), data_name)
    path.write_text(page, encoding="utf-8")
    return path
