"""Identifiers: opaque, sortable-enough string ids with a type prefix."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any


def new_id(prefix: str) -> str:
    """A fresh id such as ``hold_3f2a...``; the prefix tells what it names."""
    return f"{prefix}_{uuid.uuid4().hex}"


def request_fingerprint(payload: dict[str, Any]) -> str:
    """sha256 of a request's canonical JSON: two requests match iff their bodies match."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
