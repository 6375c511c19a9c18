"""Rule-level differences between two policy bundles.

Lists keyed by ``id`` (nodes, rules, table rows) are matched by id, so an edited rule shows
as one change of that rule, not as a shifted list; order changes are reported as moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from limitwise.policy.schemas import Bundle

ChangeKind = Literal["added", "removed", "changed", "moved"]


@dataclass(frozen=True)
class Change:
    path: str
    kind: ChangeKind
    before: Any = None
    after: Any = None

    def __str__(self) -> str:
        if self.kind == "added":
            return f"+ {self.path}: {self.after}"
        if self.kind == "removed":
            return f"- {self.path}: {self.before}"
        if self.kind == "moved":
            return f"~ {self.path}: moved from position {self.before} to {self.after}"
        return f"~ {self.path}: {self.before} -> {self.after}"


def diff_bundles(old: Bundle, new: Bundle) -> list[Change]:
    return _diff(old.model_dump(mode="json"), new.model_dump(mode="json"), "")


def _diff(old: Any, new: Any, path: str) -> list[Change]:
    if isinstance(old, dict) and isinstance(new, dict):
        return _diff_keyed(old, new, path, prefix=".")
    if _is_keyed_list(old) and _is_keyed_list(new):
        return _diff_keyed({i["id"]: i for i in old}, {i["id"]: i for i in new}, path, prefix="/")
    return [] if old == new else [Change(path.lstrip("."), "changed", old, new)]


def _diff_keyed(
    old: dict[str, Any], new: dict[str, Any], path: str, *, prefix: str
) -> list[Change]:
    changes: list[Change] = []
    for key in old:
        where = f"{path}{prefix}{key}".lstrip(".")
        if key not in new:
            changes.append(Change(where, "removed", before=old[key]))
        else:
            changes += _diff(old[key], new[key], f"{path}{prefix}{key}")
    changes += [
        Change(f"{path}{prefix}{key}".lstrip("."), "added", after=new[key])
        for key in new
        if key not in old
    ]
    # Order is meaning here: rules match first-to-last, reasons rank by catalogue position.
    old_order = [key for key in old if key in new]
    new_order = [key for key in new if key in old]
    changes += [
        Change(f"{path}{prefix}{key}".lstrip("."), "moved", old_order.index(key), position)
        for position, key in enumerate(new_order)
        if old_order.index(key) != position
    ]
    return changes


def _is_keyed_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(i, dict) and "id" in i for i in value)
    )
