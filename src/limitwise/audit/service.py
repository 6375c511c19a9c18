"""Append to the audit chains and verify them.

The log is ``CHAINS`` hash chains, each with a head row holding its last sequence number
and hash. An append takes the head of a chain no other transaction is appending to
(``FOR UPDATE SKIP LOCKED``; the first chain, waited for, only when every head is held),
so concurrent changes never queue behind one row, and records are only ever inserted.
Each record's hash covers its fields, its chain and sequence number, and the previous
record's hash in its chain. Verification walks each chain by sequence number and names
the first record that does not follow: an edited row fails its own hash, a deleted one
leaves a gap, a reordered one no longer links to its predecessor, a record moved to
another chain fails its hash, and a deleted tail leaves the head pointing past the
chain's last record.

What the chains prove is the order of the records *within* each chain; two records in
different chains are ordered only by their ``recorded_at`` (each covered by its hash).
Someone able to rewrite a whole chain and its head with fresh hashes is caught by an
anchor kept outside the database (``anchor``, then ``verify(anchor=...)``): the chain
must still hold the anchored record, or it was rewritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from limitwise.audit import repository
from limitwise.audit.models import FIRST_CHAIN, AuditHead, AuditRecord
from limitwise.kit.clock import Clock
from limitwise.kit.errors import InvalidInput

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
    if row.chain != FIRST_CHAIN:  # the first chain's records hash as they did before chains
        fields["chain"] = row.chain
    return digest(fields)


class ChainsMissing(RuntimeError):
    """The database has no audit chain heads: its schema is behind."""


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

    Call it last in the unit of work: the chain's head stays locked until the commit."""
    head = repository.claim_free_head(session) or repository.lock_first_head(session)
    if head is None:
        raise ChainsMissing("the audit chains have no heads: run `limitwise db upgrade`")
    row = AuditRecord(
        chain=head.id,
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


# --- anchors ---------------------------------------------------------------------------------

ANCHOR_FORMAT = "limitwise-audit-anchor/1"


@dataclass(frozen=True)
class Anchor:
    """The heads of the chains at one moment, to keep outside the database: a later
    verification proves each chain still holds (or has grown past) the anchored record."""

    #: chain -> (sequence number, hash) of its last record then (0: the chain was empty).
    heads: Mapping[int, tuple[int, str]]

    def to_json(self) -> str:
        chains = [{"chain": c, "seq": seq, "hash": h} for c, (seq, h) in sorted(self.heads.items())]
        return json.dumps({"format": ANCHOR_FORMAT, "chains": chains}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Anchor:
        try:
            document = json.loads(text)
            if document["format"] != ANCHOR_FORMAT:
                raise ValueError(f"not {ANCHOR_FORMAT}")
            heads = {int(c["chain"]): (int(c["seq"]), str(c["hash"])) for c in document["chains"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(
                f"not an audit anchor ({exc})", field="anchor", code="bad_anchor"
            ) from None
        return cls(heads)


def anchor(session: Session) -> Anchor:
    """The current head of every chain."""
    return Anchor({head.id: (head.seq, head.hash) for head in repository.heads(session)})


# --- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    records_checked: int
    #: The sequence number of the first record that breaks a chain (None: intact).
    first_bad_seq: int | None = None
    problem: str = ""
    #: The chain it is in.
    first_bad_chain: int | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


class _Broken(Exception):
    def __init__(self, seq: int, problem: str) -> None:
        super().__init__(problem)
        self.seq, self.problem = seq, problem


def verify(session: Session, anchor: Anchor | None = None) -> Verification:
    """Walk every chain; with an ``anchor``, also prove each chain still holds the record
    anchored then (a chain rewritten with fresh hashes does not)."""
    heads = {head.id: head for head in repository.heads(session)}
    anchored = dict(anchor.heads) if anchor else {}
    checked = 0
    walked: set[int] = set()
    for chain, rows in groupby(repository.records_in_order(session), key=attrgetter("chain")):
        if chain not in heads:
            return Verification(checked, 1, f"chain {chain} has no head", chain)
        walked.add(chain)
        try:
            checked += _walk(rows, heads[chain], anchored.get(chain))
        except _Broken as broken:
            return Verification(checked + broken.seq - 1, broken.seq, broken.problem, chain)
    for chain in sorted((heads.keys() | anchored.keys()) - walked):
        try:
            _walk([], heads.get(chain), anchored.get(chain))
        except _Broken as broken:
            return Verification(checked, broken.seq, broken.problem, chain)
    return Verification(checked)


def _walk(
    rows: Iterable[AuditRecord], head: AuditHead | None, anchored: tuple[int, str] | None
) -> int:
    """Check one chain's records against each other, its head and its anchor; the number
    of records, or ``_Broken`` naming the first bad one."""
    prev_hash, expected_seq = GENESIS_HASH, 1
    anchored_hash = None
    for row in rows:
        if row.seq != expected_seq:
            raise _Broken(expected_seq, f"record {expected_seq} is missing")
        if row.prev_hash != prev_hash:
            raise _Broken(row.seq, f"record {row.seq} does not follow record {row.seq - 1}")
        if record_hash(row) != row.hash:
            raise _Broken(row.seq, f"record {row.seq} was edited")
        if anchored is not None and row.seq == anchored[0]:
            anchored_hash = row.hash
        prev_hash, expected_seq = row.hash, expected_seq + 1
    last_seq = expected_seq - 1
    if head is None:
        raise _Broken(1, "the head of the chain is missing")
    if (head.seq, head.hash) != (last_seq, prev_hash):
        raise _Broken(last_seq + 1, f"records {last_seq + 1}..{head.seq} are missing (the tail)")
    if anchored is not None and anchored[0] > 0:
        seq, expected_hash = anchored
        if last_seq < seq:
            raise _Broken(
                last_seq + 1,
                f"the chain ends at record {last_seq}, before the anchored record {seq}: "
                "records were removed and the head rewound",
            )
        if anchored_hash != expected_hash:
            raise _Broken(seq, f"record {seq} is not the one anchored: the chain was rewritten")
    return last_seq
