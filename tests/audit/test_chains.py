"""The log is several chains: concurrent appends take different heads instead of queueing
behind one, the chain of the one-chain schema carries on as chain 1, and an anchor kept
outside the database catches a chain rewritten with fresh hashes or rewound."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from limitwise.audit import service
from limitwise.audit.models import AuditRecord
from limitwise.cli import app
from limitwise.kit import migrate
from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from tests.audit.tamper import append_only_lifted, sql, tamper

BEFORE_CHAINS = "20261203_cob_partitions_cob"


def _append(engine: Engine, clock: Clock, n: int) -> None:
    with unit_of_work(engine) as session:
        service.record(
            session, clock, actor="admin", action="user.update", target=f"user:u{n}", after={"n": n}
        )


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", *args])
    return result.exit_code, result.output


def test_the_one_chain_of_the_old_schema_verifies_as_chain_1_and_grows(engine, db_url, clock):
    command.downgrade(migrate.alembic_config(db_url), BEFORE_CHAINS)
    prev = service.GENESIS_HASH
    with engine.begin() as conn:
        for seq in (1, 2, 3):
            row = AuditRecord(
                chain=1,
                seq=seq,
                recorded_at=clock.now(),
                actor="admin",
                action="user.update",
                target=f"user:u{seq}",
                before_digest=service.NOTHING,
                after_digest=service.NOTHING,
                prev_hash=prev,
            )
            prev = service.record_hash(row)  # the first chain hashes as the one chain did
            conn.execute(
                text(
                    "INSERT INTO audit_records (seq, recorded_at, actor, action, target, "
                    "before_digest, after_digest, prev_hash, hash) VALUES (:seq, :at, 'admin', "
                    "'user.update', :target, :nothing, :nothing, :prev, :hash)"
                ),
                {
                    "seq": seq,
                    "at": row.recorded_at,
                    "target": row.target,
                    "nothing": service.NOTHING,
                    "prev": row.prev_hash,
                    "hash": prev,
                },
            )
        conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 3, :h)"), {"h": prev})
    migrate.upgrade(db_url)
    _append(engine, clock, 4)
    assert _cli("verify", "--db", db_url) == (0, "audit chain OK: 4 records\n")
    with unit_of_work(engine) as session:
        assert service.anchor(session).heads[1][0] == 4


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_concurrent_appends_take_different_chains_without_waiting(engine, db_url, clock):
    with Session(engine, expire_on_commit=False) as first, first.begin():
        held = service.record(first, clock, actor="a", action="draw.create", target="account:A")
        with Session(engine, expire_on_commit=False) as second, second.begin():
            # waiting for the first transaction's head would fail at once, not pass
            second.execute(text("SET LOCAL lock_timeout = '500ms'"))
            other = service.record(
                second, clock, actor="b", action="draw.create", target="account:B"
            )
    assert (held.chain, held.seq) == (1, 1)
    assert (other.chain, other.seq) == (2, 1)
    assert _cli("verify", "--db", db_url) == (0, "audit chain OK: 2 records\n")


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_record_moved_to_another_chain_is_named(engine, db_url, clock):
    test_concurrent_appends_take_different_chains_without_waiting(engine, db_url, clock)
    _append(engine, clock, 3)  # chain 1, record 2
    tamper(engine, "UPDATE audit_records SET chain = 2, seq = 2 WHERE chain = 1 AND seq = 2")
    sql(
        engine,
        "UPDATE audit_heads SET seq = 1, hash = (SELECT hash FROM audit_records "
        "WHERE chain = 1 AND seq = 1) WHERE id = 1",
    )
    code, output = _cli("verify", "--db", db_url)
    assert code == 1
    assert "in chain 2 at record 2: record 2 does not follow record 1" in output


@pytest.fixture
def anchored(engine: Engine, clock: Clock, tmp_path):
    """Five records, and an anchor of them in a file."""
    for n in range(1, 6):
        _append(engine, clock, n)
    path = tmp_path / "anchor.json"
    with unit_of_work(engine) as session:
        path.write_text(service.anchor(session).to_json())
    return path


def test_the_anchor_command_prints_every_head(engine, db_url, clock):
    _append(engine, clock, 1)
    code, output = _cli("anchor", "--db", db_url)
    assert code == 0
    document = json.loads(output)
    assert document["format"] == service.ANCHOR_FORMAT
    first = document["chains"][0]
    with unit_of_work(engine) as session:
        (record,) = session.query(AuditRecord).all()
    assert (first["chain"], first["seq"], first["hash"]) == (1, 1, record.hash)
    assert len(document["chains"]) == 32


def test_a_chain_that_grew_past_its_anchor_verifies(anchored, engine, db_url, clock):
    _append(engine, clock, 6)
    assert _cli("verify", "--db", db_url, "--anchor", str(anchored)) == (
        0,
        "audit chain OK: 6 records (and the anchor)\n",
    )


def test_a_chain_rewritten_with_fresh_hashes_is_caught_by_the_anchor(anchored, engine, db_url):
    with append_only_lifted(engine), unit_of_work(engine) as session:
        rows = session.query(AuditRecord).order_by(AuditRecord.seq).all()
        prev = service.GENESIS_HASH
        for row in rows:  # change record 3 and re-link everything after it
            if row.seq == 3:
                row.actor = "mallory"
            row.prev_hash = prev
            row.hash = prev = service.record_hash(row)
        session.execute(text("UPDATE audit_heads SET hash = :h WHERE id = 1"), {"h": prev})
    assert _cli("verify", "--db", db_url)[0] == 0  # consistent: only the anchor can tell
    code, output = _cli("verify", "--db", db_url, "--anchor", str(anchored))
    assert code == 1
    assert "in chain 1 at record 5: record 5 is not the one anchored" in output


def test_a_rewound_chain_is_caught_by_the_anchor(anchored, engine, db_url):
    tamper(
        engine,
        "DELETE FROM audit_records WHERE seq >= 4",
        "UPDATE audit_heads SET seq = 3, hash = (SELECT hash FROM audit_records "
        "WHERE chain = 1 AND seq = 3) WHERE id = 1",
    )
    assert _cli("verify", "--db", db_url)[0] == 0
    code, output = _cli("verify", "--db", db_url, "--anchor", str(anchored))
    assert code == 1
    assert "at record 4: the chain ends at record 3, before the anchored record 5" in output


def test_a_file_that_is_not_an_anchor_is_refused(tmp_path, db_url):
    path = tmp_path / "anchor.json"
    path.write_text('{"chains": []}')
    code, output = _cli("verify", "--db", db_url, "--anchor", str(path))
    assert code == 2
    assert "not an audit anchor" in output
