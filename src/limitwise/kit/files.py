"""The one reader of user files (scenarios, applications, policies, ``--input @file``).

Every way a file can be unusable becomes one :class:`UnreadableFile` naming the file and the
rule it breaks: missing, a directory, too big, binary or not UTF-8, invalid JSON or YAML
(with line and column), or nested deeper than any real input is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from limitwise.kit.errors import InvalidInput

#: No user file limitwise reads comes near this; a bigger one is a mistake or an attack.
MAX_FILE_BYTES = 8 * 1024 * 1024
#: Objects/lists/mappings nested deeper than this are refused before anything walks them.
MAX_DEPTH = 64
_YAML_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPENERS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSERS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class UnreadableFile(InvalidInput):
    """A user file that cannot be read as the text, JSON or YAML it should be."""

    def __init__(self, source: str, rule: str, message: str) -> None:
        super().__init__(message, code=rule, field=source)


def read_text(path: str | Path, *, max_bytes: int | None = None) -> str:
    """The file's text, refusing what is not a readable UTF-8 text file of sane size."""
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    path = Path(path)
    source = str(path)
    if path.is_dir():
        raise UnreadableFile(source, "not_a_file", "is a directory, not a file")
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise UnreadableFile(source, "file_not_found", "no such file") from None
    except OSError as exc:
        raise UnreadableFile(source, "unreadable_file", f"cannot read: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise UnreadableFile(source, "file_too_large", f"larger than {max_bytes} bytes")
    return decode_text(data, source=source)


def decode_text(data: bytes, *, source: str) -> str:
    if b"\x00" in data:
        raise UnreadableFile(source, "binary_file", "contains NUL bytes: a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            source, "not_utf8", f"not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x})"
        ) from None


def read_json(path: str | Path) -> Any:
    return parse_json(read_text(path), source=str(path))


def parse_json(text: str, *, source: str) -> Any:
    """Parse JSON text; errors name the line and column."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(
            source,
            "invalid_json",
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
        ) from None
    except RecursionError:
        raise _too_deep(source) from None
    if _depth(value) > MAX_DEPTH:
        raise _too_deep(source)
    return value


def read_yaml(path: str | Path, *, loader: type[Any] = _YAML_LOADER) -> Any:
    return parse_yaml(read_text(path), source=str(path), loader=loader)


def parse_yaml(text: str, *, source: str, loader: type[Any] = _YAML_LOADER) -> Any:
    """Parse YAML text with ``loader`` (a safe one); errors name the line and column."""
    try:
        _check_yaml_depth(text, source=source, loader=loader)
        return yaml.load(text, Loader=loader)  # callers pass safe loaders
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UnreadableFile(
            source, "invalid_yaml", f"invalid YAML{where}: {exc.problem or exc.context}"
        ) from None
    except yaml.YAMLError as exc:
        raise UnreadableFile(source, "invalid_yaml", f"invalid YAML: {exc}") from None
    except (ValueError, OverflowError) as exc:
        # PyYAML builds dates and numbers itself: 2026-02-30 raises ValueError.
        raise UnreadableFile(source, "invalid_yaml_value", f"impossible value: {exc}") from None
    except RecursionError:
        raise _too_deep(source) from None


def _check_yaml_depth(text: str, *, source: str, loader: type[Any]) -> None:
    """Walk the event stream (no recursion) so deep nesting is refused before composing."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, _OPENERS):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(source)
        elif isinstance(event, _CLOSERS):
            depth -= 1


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def _too_deep(source: str) -> UnreadableFile:
    return UnreadableFile(source, "too_deep", f"nested more than {MAX_DEPTH} levels deep")
