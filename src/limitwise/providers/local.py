"""Local adapters: providers backed by CSV and JSON files (demo, tests, offline runs).

Every file holds records that carry an ``as_of`` date; a lookup returns the newest record
for the key dated on or before the query's ``business_date`` (no look-ahead in replays).
The real-name and vehicle adapters answer the same questions the HTTP services answer
(``name_matches_id``, ``owner_matches``) so one interpretation serves both.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from limitwise.providers.base import SourceUnavailable

Record = dict[str, Any]
Answer = Callable[[Record, Mapping[str, str]], Record]


def _read_csv(path: Path) -> list[Record]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            {key: (value if value != "" else None) for key, value in row.items()}
            for row in csv.DictReader(handle)
        ]


def _read_json(path: Path) -> list[Record]:
    records = json.loads(path.read_text(encoding="utf-8")).get("records", [])
    return [r for r in records if isinstance(r, dict)]


class FileRecordSource:
    """Records from one CSV or JSON file, keyed by ``key_field``."""

    def __init__(
        self, path: Path, *, key_field: str, query_key: str, answer: Answer | None = None
    ) -> None:
        self.path = path
        self.key_field = key_field
        self.query_key = query_key
        self.answer = answer
        self._by_key: dict[str, list[Record]] | None = None

    @property
    def name(self) -> str:
        return f"local:{self.path.name}"

    def _records(self) -> dict[str, list[Record]]:
        if self._by_key is None:
            try:
                rows = _read_csv(self.path) if self.path.suffix == ".csv" else _read_json(self.path)
            except (OSError, ValueError, AttributeError) as exc:
                raise SourceUnavailable(f"unreadable_file: {type(exc).__name__}") from None
            by_key: dict[str, list[Record]] = defaultdict(list)
            for row in rows:
                by_key[str(row.get(self.key_field))].append(row)
            self._by_key = dict(by_key)
        return self._by_key

    def fetch(self, query: Mapping[str, str]) -> Record | None:
        candidates = self._records().get(query[self.query_key], [])
        cutoff = query.get("business_date", "9999-12-31")
        dated = [r for r in candidates if str(r.get("as_of") or "") <= cutoff]
        if not dated:
            return None
        newest = max(dated, key=lambda r: str(r.get("as_of") or ""))
        return self.answer(newest, query) if self.answer else newest


def answer_realname(record: Record, query: Mapping[str, str]) -> Record:
    """Emulate a real-name service: compare the query with the person on file."""
    return {
        "as_of": query["business_date"],
        "name_matches_id": record.get("name") == query["name"],
        "card_in_own_name": query["bank_card"] in (record.get("bank_cards") or []),
        "mobile_in_own_name": query["mobile"] in (record.get("mobiles") or []),
    }


def answer_vehicle(record: Record, query: Mapping[str, str]) -> Record:
    """Emulate a vehicle registry: say whether the applicant owns it, never who does."""
    answer = {k: v for k, v in record.items() if k not in {"owner_resident_id", "plate_number"}}
    answer["owner_matches"] = (
        record.get("owner_resident_id") == query["resident_id"]
        and record.get("plate_number") == query["plate_number"]
    )
    return answer


class LocalVehicleSource(FileRecordSource):
    """The vehicle registry file plus a price guide (model -> new price) for valuation."""

    def __init__(self, registry: Path, price_guide: Path) -> None:
        super().__init__(registry, key_field="vin", query_key="vin", answer=answer_vehicle)
        self.price_guide = price_guide
        self._prices: dict[str, Any] | None = None

    def _price_of(self, model: str) -> Any:
        if self._prices is None:
            try:
                rows = _read_csv(self.price_guide)
                self._prices = {row["model"]: row["new_price"] for row in rows}
            except (OSError, KeyError) as exc:
                raise SourceUnavailable(f"unreadable_file: {type(exc).__name__}") from None
        return self._prices.get(model)

    def fetch(self, query: Mapping[str, str]) -> Record | None:
        answer = super().fetch(query)
        if answer is None:
            return None
        answer["reference_price"] = self._price_of(str(answer.get("model") or query["model"]))
        return answer
