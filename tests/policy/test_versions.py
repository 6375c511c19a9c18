from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from limitwise.kit.clock import Clock
from limitwise.kit.db import unit_of_work
from limitwise.kit.errors import Conflict, NotFound, Refused
from limitwise.policy import service
from limitwise.policy.online import PolicyEvaluator
from tests.policy.conftest import POLICIES

SOURCE = (POLICIES / "default.yaml").read_text()
V2 = SOURCE.replace('version: "2026.12.1"', 'version: "2026.12.2"').replace(
    "max_fen: 30000000 ", "max_fen: 20000000 "
)


def test_publish_list_show_diff_rollback(engine: Engine, clock: Clock) -> None:
    with unit_of_work(engine) as session:
        v1, created = service.publish(session, clock, source_yaml=SOURCE)
        assert created and v1.active
        again, created_again = service.publish(session, clock, source_yaml=SOURCE + "\n# note\n")
        assert not created_again and again.content_hash == v1.content_hash
        service.publish(session, clock, source_yaml=V2)
    with unit_of_work(engine) as session:
        listed = service.list_versions(session, policy_key="jiebei-default")
        assert [(v.version, v.active) for v in listed] == [
            ("2026.12.1", False),
            ("2026.12.2", True),
        ]
        view, source = service.show(session, policy_key="jiebei-default")
        assert view.version == "2026.12.2" and source == V2
        changes = service.diff_versions(
            session, policy_key="jiebei-default", old="2026.12.1", new="2026.12.2"
        )
        assert [str(c) for c in changes] == [
            "~ version: 2026.12.1 -> 2026.12.2",
            "~ line.max_fen: 30000000 -> 20000000",
        ]
        back = service.rollback(session, clock, policy_key="jiebei-default")
        assert back.version == "2026.12.1"
    with unit_of_work(engine) as session:
        policy = service.load_policy(session, policy_key="jiebei-default")
        assert (policy.version, policy.content_hash) == ("2026.12.1", v1.content_hash)
        forward = service.rollback(
            session, clock, policy_key="jiebei-default", to_version="2026.12.2"
        )
        assert forward.active


def test_a_version_never_changes(engine: Engine, clock: Clock) -> None:
    with unit_of_work(engine) as session:
        service.publish(session, clock, source_yaml=SOURCE)
    edited = SOURCE.replace("step_fen: 10000 ", "step_fen: 50000 ")
    with (
        pytest.raises(Conflict, match="already published with hash"),
        unit_of_work(engine) as session,
    ):
        service.publish(session, clock, source_yaml=edited)
    with pytest.raises(DBAPIError, match="immutable"), engine.begin() as conn:
        conn.execute(text("UPDATE policy_versions SET source_yaml = 'x'"))
    with pytest.raises(DBAPIError, match="immutable"), engine.begin() as conn:
        conn.execute(text("DELETE FROM policy_activations"))


def test_every_decision_names_key_version_and_hash(engine: Engine, clock: Clock) -> None:
    with unit_of_work(engine) as session:
        view, _ = service.publish(session, clock, source_yaml=SOURCE)
        policy = service.load_policy(session, policy_key="jiebei-default")
    import yaml

    cases = yaml.safe_load((POLICIES / "default.cases.yaml").read_text())
    decision = PolicyEvaluator(policy).evaluate(cases["bases"]["applicant"])
    assert decision.to_dict()["policy"] == {
        "key": "jiebei-default",
        "version": "2026.12.1",
        "hash": view.content_hash,
    }


def test_missing_versions_are_clear(engine: Engine, clock: Clock) -> None:
    with unit_of_work(engine) as session:
        with pytest.raises(NotFound):
            service.show(session, policy_key="nope")
        with pytest.raises(NotFound):
            service.rollback(session, clock, policy_key="nope")
        service.publish(session, clock, source_yaml=SOURCE)
        with pytest.raises(Refused, match="no earlier version"):
            service.rollback(session, clock, policy_key="jiebei-default")
