"""Scorecard files: load, validate, save, fingerprint, and the scorecards shipped in the package."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from limitwise.kit.errors import InvalidInput
from limitwise.scoring.schemas import Purpose, Scorecard

DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"


def scorecard_from_json(text: str, *, field: str = "model") -> Scorecard:
    """Parse and validate an artifact; a damaged one is refused, never half-used."""
    try:
        return Scorecard.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(
            f"not a valid scorecard artifact ({exc.error_count()} problem(s); first at "
            f"{where or 'top level'}: {first['msg']})",
            field=field,
            code="scorecard_artifact",
        ) from exc


def load_scorecard(path: Path, *, field: str = "model") -> Scorecard:
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field=field, code="file_exists")
    return scorecard_from_json(path.read_text(encoding="utf-8"), field=field)


def dump_scorecard(scorecard: Scorecard) -> str:
    """Canonical JSON text of an artifact (stable, so its sha256 identifies it).

    Fields added after the first artifacts (interactions, the family and its cross-validated
    AUCs, segments, a blend's pooled weight) are left out while they hold their defaults, so
    older artifacts keep their text and their sha256.
    """
    return (
        json.dumps(
            _without_defaults(scorecard.model_dump(mode="json")), ensure_ascii=False, indent=1
        )
        + "\n"
    )


def _without_defaults(body: dict[str, Any]) -> dict[str, Any]:
    """The artifact body without the later fields that still hold their defaults."""
    training = body["training"]
    for holder, added, default in (
        (body, "interactions", []),
        (body, "segment_column", None),
        (body, "segments", []),
        (training, "cv_auc", {}),
        (training, "segment_cv_auc", {}),
        (training, "pooled_weight", 0.0),
        (training, "family", "scorecard"),
        (body["metrics"], "sample", "training"),
    ):
        if holder[added] == default:
            del holder[added]
    for segment in body.get("segments", []):
        segment["scorecard"] = _without_defaults(segment["scorecard"])
    return body


def save_scorecard(scorecard: Scorecard, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_scorecard(scorecard), encoding="utf-8")


def artifact_sha256(scorecard: Scorecard) -> str:
    return hashlib.sha256(dump_scorecard(scorecard).encode("utf-8")).hexdigest()


def default_scorecard(purpose: Purpose) -> Scorecard:
    """The scorecard shipped with the package for ``purpose`` (works without ../shared)."""
    return load_scorecard(DEFAULTS_DIR / f"{purpose.value}.json", field="purpose")
