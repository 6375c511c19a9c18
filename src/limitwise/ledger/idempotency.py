"""Idempotent commands: same key + same request -> the original result, never applied twice.

The key is claimed inside the command's own transaction, so a command that fails leaves no
claim behind and a retry runs it afresh; a command that succeeds stores its result with the
claim, atomically with its effects.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from limitwise.kit.clock import Clock
from limitwise.kit.errors import Conflict, InvalidInput
from limitwise.kit.ids import request_fingerprint
from limitwise.ledger import repository

R = TypeVar("R")

MAX_KEY_LENGTH = 128


class IdempotencyConflict(Conflict):
    code = "idempotency_key_reused"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput("an idempotency key is required", field="key", code="key_required")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"idempotency key is longer than {MAX_KEY_LENGTH} characters",
            field="key",
            code="key_too_long",
        )
    return key


def run_idempotent(
    session: Session,
    clock: Clock,
    *,
    key: str,
    command: str,
    request: dict[str, Any],
    action: Callable[[], R],
    dump: Callable[[R], dict[str, Any]],
    load: Callable[[dict[str, Any]], R],
) -> R:
    """Run ``action`` once per ``key``; replay the stored result for a matching retry."""
    fingerprint = request_fingerprint({"command": command, "request": request})
    earlier = repository.claim_idempotency_key(
        session,
        key=check_key(key),
        command=command,
        request_hash=fingerprint,
        created_at=clock.now(),
    )
    if earlier is not None:
        return _replayed(earlier, key=key, fingerprint=fingerprint, load=load)
    result = action()
    repository.store_idempotent_result(
        session, key=key, result_json=json.dumps(dump(result), sort_keys=True)
    )
    return result


def replay(
    session: Session,
    *,
    key: str,
    command: str,
    request: dict[str, Any],
    load: Callable[[dict[str, Any]], R],
) -> R | None:
    """The stored result of an earlier ``run_idempotent`` with this key and request, without
    claiming the key: lets a command whose work starts outside any transaction (asking data
    providers) answer a retry without doing that work again. ``None``: not run yet."""
    earlier = repository.find_idempotency_key(session, key=check_key(key))
    if earlier is None:
        return None
    fingerprint = request_fingerprint({"command": command, "request": request})
    return _replayed(earlier, key=key, fingerprint=fingerprint, load=load)


def _replayed(
    earlier: Any, *, key: str, fingerprint: str, load: Callable[[dict[str, Any]], R]
) -> R:
    if earlier.request_hash != fingerprint or earlier.result_json is None:
        raise IdempotencyConflict(
            f"idempotency key {key!r} was already used for a different {earlier.command} request",
            field="key",
        )
    return load(json.loads(earlier.result_json))
