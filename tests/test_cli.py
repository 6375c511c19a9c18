"""The command line, run as a real process on both backends."""

import base64
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from limitwise import __version__
from limitwise.kit.clock import wall_today
from tests.net import free_port


def limitwise(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "limitwise", *args], capture_output=True, text=True, timeout=120
    )


def test_version():
    result = limitwise("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"limitwise {__version__}"


def test_upgrade_then_check_an_empty_database(db_url):
    upgraded = limitwise("db", "upgrade", "--db", db_url)
    assert upgraded.returncode == 0, upgraded.stderr
    current = limitwise("db", "current", "--db", db_url)
    assert "up to date" in current.stdout
    checked = limitwise("ledger", "check", "--db", db_url)
    assert checked.returncode == 0, checked.stdout
    assert "trial balance OK" in checked.stdout


def test_demo_then_check_then_tamper(db_url, engine):
    demo = limitwise("demo", "--db", db_url)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "trial balance OK" in demo.stdout
    again = limitwise("demo", "--db", db_url)
    assert again.returncode == 0
    assert _book_lines(again.stdout) == _book_lines(demo.stdout)
    with engine.begin() as conn:
        conn.execute(text("UPDATE ledger_accounts SET balance_fen = balance_fen + 7"))
    checked = limitwise("ledger", "check", "--db", db_url)
    assert checked.returncode == 1
    assert "trial balance FAILED" in checked.stdout
    assert "legs sum to" in checked.stdout


def _book_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "DEMO-" in line]


def test_a_database_behind_the_schema_says_to_upgrade(db_url, engine):
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE journal_legs"))
    result = limitwise("ledger", "check", "--db", db_url)
    assert result.returncode == 2
    assert "limitwise db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_one_clear_line(tmp_path):
    result = limitwise("db", "upgrade", "--db", f"sqlite:///{tmp_path}/missing/dir/x.db")
    assert result.returncode == 2
    assert "cannot use the database" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_serve_answers_on_localhost(db_url, tmp_path):
    port = free_port()
    assert limitwise("db", "upgrade", "--db", db_url).returncode == 0
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "limitwise",
            "serve",
            "--db",
            db_url,
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        # A new real book's business date is today on the wall clock in Asia/Shanghai.
        assert health.json()["business_date"] == wall_today("Asia/Shanghai").isoformat()
        anonymous = httpx.get(f"http://127.0.0.1:{port}/v1/accounts")
        assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthenticated")
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.parametrize(
    "command",
    [["serve"], ["apply", "examples/applications/salaried.json"]],
    ids=["serve", "apply"],
)
def test_published_keys_are_refused_outside_dev(monkeypatch, tmp_path, command):
    monkeypatch.setenv("LIMITWISE_ENV", "production")
    (tmp_path / "x.db").touch()  # the file exists: only the keys stand in the way
    result = subprocess.run(
        [sys.executable, "-m", "limitwise", *command, "--db", f"sqlite:///{tmp_path}/x.db"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 2
    assert "LIMITWISE_PII_KEYS" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "x.db").stat().st_size == 0  # nothing was written


def test_serve_refuses_the_development_token_secret_outside_dev(monkeypatch, tmp_path):
    """Own PII keys are not enough: the server also needs its own token-signing secret."""
    monkeypatch.setenv("LIMITWISE_ENV", "production")
    monkeypatch.setenv("LIMITWISE_PII_KEYS", "k1:" + base64.b64encode(b"p" * 32).decode())
    monkeypatch.setenv("LIMITWISE_BLIND_INDEX_KEY", base64.b64encode(b"b" * 32).decode())
    (tmp_path / "x.db").touch()
    result = limitwise("serve", "--db", f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    assert "LIMITWISE_JWT_SECRET" in result.stderr
    assert "LIMITWISE_PII_KEYS" not in result.stderr
