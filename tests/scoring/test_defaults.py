from pathlib import Path

import pytest

from limitwise.scoring.artifact import default_scorecard
from limitwise.scoring.data import encode_target, read_csv
from limitwise.scoring.metrics import auc
from limitwise.scoring.schemas import Purpose
from limitwise.scoring.serve import input_columns, score_frame, score_row

GMC = Path(__file__).resolve().parents[2].parent / "shared/data/give-me-some-credit/cs-training.csv"


def test_shipped_application_scorecard_scores_without_shared_data():
    scorecard = default_scorecard(Purpose.APPLICATION)
    assert scorecard.scaling.base_score == 600 and scorecard.scaling.pdo == 20
    row = dict.fromkeys(input_columns(scorecard), 0)
    row.update(age=25, RevolvingUtilizationOfUnsecuredLines=0.95, NumberOfTimes90DaysLate=2)
    result = score_row(scorecard, row)
    assert 300 < result.score < 700
    assert len(result.reasons) == 4
    lateness = {"times_late_total", "NumberOfTimes90DaysLate"}
    assert lateness & {r.characteristic for r in result.reasons}
    assert all(r.text_zh != r.text_en for r in result.reasons)


@pytest.mark.skipif(not GMC.is_file(), reason="../shared/data/give-me-some-credit not present")
def test_shipped_application_scorecard_ranks_give_me_some_credit():
    frame = read_csv(GMC).sample(20_000, seed=1)
    bad, _ = encode_target(frame, "SeriousDlqin2yrs", ["1"])
    assert auc(score_frame(default_scorecard(Purpose.APPLICATION), frame)["score"], bad) > 0.85
