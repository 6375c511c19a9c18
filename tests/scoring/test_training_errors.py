import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from limitwise.kit.errors import InvalidInput, InvalidRequest
from limitwise.scoring.data import encode_target, load_training_config, read_csv
from limitwise.scoring.schemas import TrainingConfig
from limitwise.scoring.train import train_scorecard

from .conftest import TARGET, make_applications


def train(frame: pl.DataFrame, **config: object):
    return train_scorecard(
        frame,
        target=TARGET,
        config=TrainingConfig(**config),
        trained_on=dt.date(2026, 11, 23),
        data_sha256="0" * 64,
    )


def test_missing_target_column():
    with pytest.raises(InvalidInput) as error:
        train(make_applications(200).drop(TARGET))
    assert (error.value.field, error.value.code) == (TARGET, "column_exists")


def test_non_binary_target():
    frame = make_applications(200).with_columns(pl.Series(TARGET, [0, 1, 2] * 66 + [0, 1]))
    with pytest.raises(InvalidInput) as error:
        train(frame)
    assert (error.value.field, error.value.code) == (TARGET, "binary")
    assert "found 3" in error.value.message


def test_single_class_target_is_not_binary():
    frame = make_applications(200).with_columns(pl.lit(0).alias(TARGET))
    with pytest.raises(InvalidInput) as error:
        train(frame)
    assert error.value.code == "binary"


def test_target_with_gaps_is_refused():
    frame = make_applications(200).with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col(TARGET)).alias(TARGET)
    )
    with pytest.raises(InvalidInput) as error:
        train(frame)
    assert error.value.code == "target_complete"


def test_constant_column_alone_is_refused_by_name():
    frame = make_applications(200).select(TARGET, pl.lit(7).alias("branch"))
    with pytest.raises(InvalidRequest) as error:
        train(frame)
    assert [(p.field, p.rule) for p in error.value.problems] == [("branch", "not_constant")]


def test_constant_column_beside_others_is_left_out_and_reported():
    frame = make_applications(600).with_columns(pl.lit("x").alias("channel"))
    scorecard = train(frame, min_iv=0.0)
    assert scorecard.training.dropped["channel"] == "constant"
    assert scorecard.training.dropped["applicant"].startswith("identifier-like")
    assert "channel" not in {c.name for c in scorecard.characteristics}


def test_empty_and_header_only_files(tmp_path: Path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b,defaulted\n")
    for path in (empty, header_only):
        with pytest.raises(InvalidInput) as error:
            read_csv(path)
        assert (error.value.field, error.value.code) == ("data", "not_empty")
    with pytest.raises(InvalidInput) as error:
        read_csv(tmp_path / "absent.csv")
    assert error.value.code == "file_exists"


def test_blank_headers_get_positional_names(tmp_path: Path):
    path = tmp_path / "blank.csv"
    path.write_text(",y\n1,0\n2,1\n")
    assert read_csv(path).columns == ["column_1", "y"]


def test_bad_label_detection_and_override():
    frame = pl.DataFrame({"status": ["Fully Paid", "Charged Off", "Fully Paid"]})
    bad, label = encode_target(frame, "status", [])
    assert (bad.to_list(), label) == ([0, 1, 0], "Charged Off")
    frame = pl.DataFrame({"grade": ["A", "B", "A"]})
    with pytest.raises(InvalidInput) as error:
        encode_target(frame, "grade", [])
    assert error.value.code == "bad_value"
    assert encode_target(frame, "grade", ["A"])[0].to_list() == [1, 0, 1]


def test_too_few_rows():
    with pytest.raises(InvalidInput) as error:
        train(make_applications(30))
    assert error.value.code == "min_rows"


def test_config_errors_name_the_setting(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text("min_iv: -1\nscaling: {pdo: 0}\ncolour: blue\n")
    with pytest.raises(InvalidRequest) as error:
        load_training_config(path)
    fields = {p.field for p in error.value.problems}
    assert {"config.min_iv", "config.scaling.pdo", "config.colour"} <= fields


def test_configured_column_must_exist():
    with pytest.raises(InvalidRequest) as error:
        train(make_applications(200), exclude=["no_such_column"])
    assert error.value.problems[0].field == "no_such_column"


def test_noise_only_data_is_refused_by_the_iv_rule():
    frame = make_applications(400).select(
        pl.Series("noise", [i % 7 for i in range(400)]),
        pl.Series(TARGET, [i % 2 for i in range(400)]),
    )
    with pytest.raises(InvalidInput) as error:
        train(frame, min_iv=0.5)
    assert (error.value.field, error.value.code) == ("data", "min_iv")


def test_characteristic_cap_is_reported():
    scorecard = train(make_applications(800), min_iv=0.0, max_characteristics=2)
    assert len(scorecard.characteristics) <= 2
    assert any("strongest" in why for why in scorecard.training.dropped.values())
