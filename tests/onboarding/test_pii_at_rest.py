"""No plaintext identifier reaches the database (file or rows) or the logs."""

import logging
import shutil

from sqlalchemy import inspect, text

from limitwise.kit.db import make_engine
from limitwise.onboarding.flows import submit_application
from tests.onboarding.factory import CAR, CAR_OWNER_ID, PEOPLE, application, context, sample_clock

PERSON = PEOPLE[CAR_OWNER_ID]
SECRETS = [
    CAR_OWNER_ID,
    PERSON["name"],
    PERSON["mobile"],
    PERSON["bank_card"],
    CAR["vin"],
    CAR["plate_number"],
]


def all_text_in_database(engine) -> str:
    parts: list[str] = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def test_no_plaintext_in_rows_or_logs_on_either_backend(db_url, caplog):
    caplog.set_level(logging.DEBUG)
    engine = make_engine(db_url, echo=True)  # SQL and its parameters go to the log too
    try:
        outcome = submit_application(
            engine, sample_clock(), raw=application(vehicle=CAR), context=context()
        )
        stored = all_text_in_database(engine)
    finally:
        engine.dispose()
    assert outcome.status.value == "pending_decision"
    assert "110105********1239" in stored  # the masked form is what is kept
    assert "INSERT INTO applications" in caplog.text  # the SQL log was captured
    for secret in SECRETS:
        assert secret not in stored, secret
        assert secret not in caplog.text, secret


def test_no_plaintext_in_the_sqlite_file(tmp_path, sqlite_template):
    path = tmp_path / "file-check.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    submit_application(engine, sample_clock(), raw=application(vehicle=CAR), context=context())
    engine.dispose()  # checkpoints the WAL into the file
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert b"110105********1239" in raw
    for secret in SECRETS:
        assert secret.encode() not in raw, secret
