import datetime as dt

import pytest

from limitwise.kit.db import unit_of_work
from limitwise.kit.errors import Conflict, InvalidInput, NotFound
from limitwise.scoring import service
from limitwise.scoring.artifact import default_scorecard
from limitwise.scoring.schemas import Purpose


@pytest.fixture
def application():
    return default_scorecard(Purpose.APPLICATION)


def test_register_publish_and_switch_live(engine, clock, application):
    second = application.model_copy(update={"version": application.version + "-b"})
    with unit_of_work(engine) as session:
        entry = service.register_scorecard(
            session, clock=clock, scorecard=application, registered_by="ana"
        )
        assert not entry.live
        service.register_scorecard(session, clock=clock, scorecard=second, registered_by="ana")
        with pytest.raises(NotFound):
            service.live_entry(session, purpose=Purpose.APPLICATION)
    with unit_of_work(engine) as session:
        service.publish_scorecard(
            session, clock=clock, version=application.version, published_by="lead"
        )
    with unit_of_work(engine) as session:
        live = service.live_entry(session, purpose=Purpose.APPLICATION)
        assert (live.version, live.published_by) == (application.version, "lead")
        assert live.published_at == clock.now()
        assert service.live_scorecard(session, purpose=Purpose.APPLICATION) == application
        service.publish_scorecard(session, clock=clock, version=second.version, published_by="bo")
    with unit_of_work(engine) as session:
        entries = {e.version: e for e in service.list_scorecards(session)}
        assert entries[second.version].live and not entries[application.version].live
        with pytest.raises(NotFound):
            service.live_entry(session, purpose=Purpose.BEHAVIOUR)


def test_registering_is_idempotent_but_a_version_cannot_change(engine, clock, application):
    with unit_of_work(engine) as session:
        first = service.register_scorecard(
            session, clock=clock, scorecard=application, registered_by="ana"
        )
        again = service.register_scorecard(
            session, clock=clock, scorecard=application, registered_by="ana"
        )
        assert first.artifact_sha256 == again.artifact_sha256
        assert len(service.list_scorecards(session)) == 1
    altered = application.model_copy(update={"trained_on": dt.date(2020, 1, 1)})
    with unit_of_work(engine) as session, pytest.raises(Conflict) as error:
        service.register_scorecard(session, clock=clock, scorecard=altered, registered_by="ana")
    assert error.value.field == "version"


def test_publishing_needs_a_registered_version_and_a_person(engine, clock, application):
    with unit_of_work(engine) as session:
        with pytest.raises(NotFound):
            service.publish_scorecard(session, clock=clock, version="nope", published_by="x")
        with pytest.raises(InvalidInput) as error:
            service.register_scorecard(
                session, clock=clock, scorecard=application, registered_by="  "
            )
        assert (error.value.field, error.value.code) == ("registered_by", "person_required")


def test_registry_commands(tmp_path):
    from typer.testing import CliRunner

    from limitwise.cli import app
    from limitwise.scoring.artifact import DEFAULTS_DIR

    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    model = DEFAULTS_DIR / "behaviour.json"
    version = default_scorecard(Purpose.BEHAVIOUR).version
    for args in (
        ["db", "upgrade", "--db", db],
        ["score", "registry", "add", "--model", str(model), "--by", "ana", "--db", db],
        ["score", "registry", "publish", version, "--by", "lead", "--db", db],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    live = runner.invoke(app, ["score", "registry", "live", "--purpose", "behaviour", "--db", db])
    assert live.output.strip() == version
    listing = runner.invoke(app, ["score", "registry", "list", "--db", db])
    assert "lead" in listing.output and "yes" in listing.output
