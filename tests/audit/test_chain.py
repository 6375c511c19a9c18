"""The audit chain detects an edited, deleted or reordered record and names the first bad
one, on SQLite and PostgreSQL, through ``limitwise audit verify``; the database itself
refuses to edit or delete a record.

The tampering tests act as an attacker with the table owner's rights, who first disables
the append-only triggers (``_tamper``): the hashes must catch what the triggers no longer
stop."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from limitwise.audit import service
from limitwise.cli import app
from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from tests.audit.tamper import sql, tamper


@pytest.fixture
def chained(engine: Engine, clock: Clock) -> Engine:
    """Five records, one per transaction."""
    for n in range(1, 6):
        with unit_of_work(engine) as session:
            service.record(
                session,
                clock,
                actor="admin",
                action="user.update",
                target=f"user:u{n}",
                before={"n": n - 1},
                after={"n": n},
            )
    return engine


def _verify(db_url: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify", "--db", db_url])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET actor = 'mallory' WHERE seq = 3",
        "DELETE FROM audit_records WHERE seq = 5",
    ],
)
def test_the_database_refuses_to_edit_or_delete_a_record(chained, db_url, statement):
    with pytest.raises(DBAPIError, match="audit_records is append-only"):
        sql(chained, statement)
    with chained.connect() as conn:
        actors = conn.execute(text("SELECT actor FROM audit_records ORDER BY seq")).scalars()
        assert list(actors) == ["admin"] * 5
    assert _verify(db_url) == (0, "audit chain OK: 5 records\n")


def test_the_head_stays_updatable(chained):
    sql(chained, "UPDATE audit_heads SET seq = seq")


def test_an_untouched_chain_verifies(chained, db_url):
    assert _verify(db_url) == (0, "audit chain OK: 5 records\n")


def test_an_edited_record_is_named(chained, db_url):
    tamper(chained, "UPDATE audit_records SET actor = 'mallory' WHERE seq = 3")
    code, output = _verify(db_url)
    assert code == 1
    assert "at record 3: record 3 was edited" in output


def test_a_deleted_record_is_named(chained, db_url):
    tamper(chained, "DELETE FROM audit_records WHERE seq = 2")
    code, output = _verify(db_url)
    assert code == 1
    assert "at record 2: record 2 is missing" in output


def test_reordered_records_are_named(chained, db_url):
    tamper(
        chained,
        "UPDATE audit_records SET seq = 100 WHERE seq = 2",
        "UPDATE audit_records SET seq = 2 WHERE seq = 4",
        "UPDATE audit_records SET seq = 4 WHERE seq = 100",
    )
    code, output = _verify(db_url)
    assert code == 1
    assert "at record 2: record 2 does not follow record 1" in output


def test_a_deleted_tail_is_named_against_the_head(chained, db_url):
    tamper(chained, "DELETE FROM audit_records WHERE seq >= 4")
    code, output = _verify(db_url)
    assert code == 1
    assert "at record 4: records 4..5 are missing (the tail)" in output


def test_a_rewritten_hash_still_breaks_the_link_to_the_next_record(chained, db_url):
    with Session(chained) as session:  # read only: the edit goes through _tamper
        row = next(r for r in service.repository.records_in_order(session) if r.seq == 3)
        row.actor = "mallory"
        forged = service.record_hash(row)
        session.rollback()
    tamper(chained, f"UPDATE audit_records SET actor = 'mallory', hash = '{forged}' WHERE seq = 3")
    code, output = _verify(db_url)
    assert code == 1
    assert "at record 4: record 4 does not follow record 3" in output


def test_digests_are_of_canonical_json():
    assert service.digest({"b": 1, "a": [1, 2]}) == service.digest({"a": [1, 2], "b": 1})
    assert service.digest({"a": 1}) != service.digest({"a": 2})
