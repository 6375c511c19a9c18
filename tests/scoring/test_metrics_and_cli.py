import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from limitwise.cli import app
from limitwise.scoring import metrics
from limitwise.scoring.artifact import save_scorecard

from .conftest import TARGET, make_applications

runner = CliRunner()


def test_auc_ks_match_brute_force():
    scores = pl.Series([500, 520, 520, 560, 580, 600, 610, 640])
    bad = pl.Series([1, 1, 0, 1, 0, 0, 0, 0])
    goods = [s for s, b in zip(scores, bad, strict=True) if b == 0]
    bads = [s for s, b in zip(scores, bad, strict=True) if b == 1]
    pairs = [(g > b) + 0.5 * (g == b) for g in goods for b in bads]
    assert metrics.auc(scores, bad) == pytest.approx(sum(pairs) / len(pairs))
    gaps = [
        abs(sum(b <= t for b in bads) / len(bads) - sum(g <= t for g in goods) / len(goods))
        for t in scores
    ]
    assert metrics.ks(scores, bad) == pytest.approx(max(gaps))


def test_psi_is_zero_on_the_same_distribution_and_grows_with_shift():
    scores = pl.Series(range(1000), dtype=pl.Float64)
    baseline = metrics.score_distribution(scores)
    assert metrics.psi(baseline.proportions, metrics.distribution(scores, baseline.edges)) == 0
    shifted = metrics.distribution(scores + 300, baseline.edges)
    assert metrics.psi(baseline.proportions, shifted) > 0.25


@pytest.fixture
def csv_files(tmp_path: Path, scorecard, applications) -> tuple[Path, Path]:
    model = tmp_path / "model.json"
    save_scorecard(scorecard, model)
    data = tmp_path / "apps.csv"
    applications.write_csv(data)
    return model, data


def test_evaluate_json_and_offline_report(csv_files, tmp_path):
    model, data = csv_files
    report = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "score",
            "evaluate",
            "--model",
            str(model),
            "--data",
            str(data),
            "--target",
            TARGET,
            "--json",
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert {"auc", "ks", "gini", "psi", "bands", "calibration"} <= body.keys()
    assert body["psi"] == pytest.approx(0, abs=1e-9)  # the training data against itself
    assert body["gini"] == pytest.approx(2 * body["auc"] - 1)
    page = (report / "report.html").read_text()
    assert len(re.findall(r'src="data:image/png;base64,', page)) == 4
    assert "http://" not in page and "https://" not in page


def test_apply_polars_and_rowwise_write_identical_files(csv_files, tmp_path):
    model, data = csv_files
    outputs = []
    for flag in ([], ["--rowwise"]):
        out = tmp_path / f"out{len(outputs)}.csv"
        result = runner.invoke(
            app,
            [
                "score",
                "apply",
                "--model",
                str(model),
                "--data",
                str(data),
                "--out",
                str(out),
                "--lang",
                "zh",
                *flag,
            ],
        )
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    scored = pl.read_csv(tmp_path / "out0.csv")
    assert {"score", "reason_1", "reason_4", "reason_1_text"} <= set(scored.columns)


def test_train_command_writes_a_versioned_artifact(tmp_path):
    data = tmp_path / "train.csv"
    make_applications(800, seed=3).write_csv(data)
    out = tmp_path / "model.json"
    result = runner.invoke(
        app,
        [
            "score",
            "train",
            "--data",
            str(data),
            "--target",
            TARGET,
            "--id",
            "applicant",
            "--exclude",
            "age",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    assert (
        body["training"]["data_sha256"] != "0" * 64 and len(body["training"]["data_sha256"]) == 64
    )
    assert body["scaling"] == {"base_score": 600.0, "base_odds": 50.0, "pdo": 20.0}
    assert "age" not in {c["name"] for c in body["characteristics"]}
    assert all(c["reason"]["zh"] and c["reason"]["en"] for c in body["characteristics"])


def test_bad_input_is_a_clear_error_not_a_traceback(tmp_path):
    data = tmp_path / "apps.csv"
    make_applications(100).write_csv(data)
    result = runner.invoke(
        app, ["score", "train", "--data", str(data), "--target", "nope", "--out", "x.json"]
    )
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert "nope" in line and "column_exists" in line
    assert not Path("x.json").exists()


def test_train_measures_out_of_sample_and_writes_the_held_out_rows(tmp_path):
    data = tmp_path / "train.csv"
    make_applications(1000, seed=4).write_csv(data)
    out, held = tmp_path / "model.json", tmp_path / "held.csv"
    common = ["score", "train", "--data", str(data), "--target", TARGET, "--id", "applicant"]
    result = runner.invoke(
        app,
        [
            *common,
            *("--config", str(_scorecard_config(tmp_path)), "--holdout", "0.25"),
            *("--holdout-out", str(held), "--out", str(out)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "holdout AUC" in result.output
    body = json.loads(out.read_text())
    rows = pl.read_csv(held)
    assert rows.height == 250 and body["training"]["rows"] == 750
    assert body["metrics"]["sample"] == "holdout"
    evaluated = runner.invoke(
        app, ["score", "evaluate", "--model", str(out), "--data", str(held), "--target", TARGET]
    )
    assert f"AUC {body['metrics']['auc']:.4f}" in evaluated.output
    refused = runner.invoke(app, [*common, "--holdout", "1.5", "--out", str(tmp_path / "no.json")])
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: holdout:") and "[fraction]" in refused.stderr
    assert not (tmp_path / "no.json").exists()


def _scorecard_config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("name: held\nmin_iv: 0.0\n")
    return path
