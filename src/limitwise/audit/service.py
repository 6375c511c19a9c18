"""Append to the audit chain and verify it.

Each record's hash covers its fields and the previous record's hash; the head row holds the
last sequence number and hash. Verification walks the records by sequence number and names
the first one that does not follow: an edited row fails its own hash, a deleted one leaves
a gap in the sequence, a reordered one no longer links to its predecessor, and a deleted
tail leaves the head pointing past the last record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from limitwise.audit import repository
from limitwise.audit.models import HEAD_ROW_ID, AuditHead, AuditRecord
from limitwise.kit.clock import Clock

T = TypeVar("T")
GENESIS_HASH = "0" * 64
#: The digest of "nothing": the state before a creation, after a deletion.
NOTHING = hashlib.sha256(b"null").hexdigest()


def digest(state: Any) -> str:
    """sha256 of a state's canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def record_hash(row: AuditRecord) -> str:
    fields = {
        "seq": row.seq,
        "recorded_at": _utc(row.recorded_at).isoformat(),
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "before": row.before_digest,
        "after": row.after_digest,
        "prev": row.prev_hash,
    }
    return digest(fields)


def record(
    session: Session,
    clock: Clock,
    *,
    actor: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
) -> AuditRecord:
    """Append one record in the caller's transaction: it commits with the change it logs.

    Call it last in the unit of work: the head stays locked until the commit."""
    head = repository.lock_head(session)
    if head is None:
        head = AuditHead(id=HEAD_ROW_ID, seq=0, hash=GENESIS_HASH)
        repository.add(session, head)
    row = AuditRecord(
        seq=head.seq + 1,
        recorded_at=clock.now(),
        actor=actor,
        action=action,
        target=target,
        before_digest=digest(before),
        after_digest=digest(after),
        prev_hash=head.hash,
    )
    row.hash = record_hash(row)
    repository.add(session, row)
    head.seq, head.hash = row.seq, row.hash
    session.flush()
    return row


def change(
    session: Session,
    clock: Clock,
    *,
    actor: str,
    action: str,
    target: str,
    snapshot: Callable[[], Any],
    apply: Callable[[], T],
) -> T:
    """Apply a change and log it with digests of ``snapshot()`` before and after."""
    before = snapshot()
    result = apply()
    record(
        session, clock, actor=actor, action=action, target=target, before=before, after=snapshot()
    )
    return result


@dataclass(frozen=True)
class Verification:
    records_checked: int
    #: The sequence number of the first record that breaks the chain (None: intact).
    first_bad_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify(session: Session) -> Verification:
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    for row in repository.records_in_order(session):
        if row.seq != expected_seq:
            return Verification(checked, expected_seq, f"record {expected_seq} is missing")
        if row.prev_hash != prev_hash:
            return Verification(
                checked, row.seq, f"record {row.seq} does not follow record {row.seq - 1}"
            )
        if record_hash(row) != row.hash:
            return Verification(checked, row.seq, f"record {row.seq} was edited")
        prev_hash, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
    head = repository.find_head(session)
    last_seq = expected_seq - 1
    if head is None:
        bad = 1 if checked else None
        return Verification(checked, bad, "the head of the chain is missing" if bad else "")
    if (head.seq, head.hash) != (last_seq, prev_hash):
        return Verification(
            checked, last_seq + 1, f"records {last_seq + 1}..{head.seq} are missing (the tail)"
        )
    return Verification(checked)
