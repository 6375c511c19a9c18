"""The least a request of ``benchmarks/api.py``'s mix can cost in Python here: a bare
FastAPI app (served by ``benchmarks/api_lean.py``) that checks the bearer token and runs the
SQL a read or a money-moving write must run, straight through psycopg, no ORM, no models.

A read is one statement (the borrower's account with its ledger balance). A draw or a
repayment is one transaction of nine: lock the account, claim the idempotency key, the
journal entry, its two legs, the ledger balance, the account, the draw row, an audit row,
and the stored result. Nothing is validated beyond the token and the body's amount: this is
a yardstick for ``limitwise serve``, not an API.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import jwt
import psycopg
from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool

SECRET = "lean-benchmark-secret-of-32-bytes"
SCHEMA = """
CREATE TABLE acct (id BIGINT PRIMARY KEY, ref TEXT UNIQUE NOT NULL, owner TEXT NOT NULL,
  line_fen BIGINT NOT NULL, principal_fen BIGINT NOT NULL, status TEXT NOT NULL);
CREATE TABLE ledger (id BIGINT PRIMARY KEY, balance_fen BIGINT NOT NULL);
CREATE TABLE idem (key TEXT PRIMARY KEY, body TEXT);
CREATE TABLE entry (id BIGSERIAL PRIMARY KEY, ref TEXT UNIQUE NOT NULL);
CREATE TABLE leg (id BIGSERIAL PRIMARY KEY, entry_id BIGINT NOT NULL REFERENCES entry (id),
  account_id BIGINT NOT NULL, amount_fen BIGINT NOT NULL);
CREATE TABLE draw (id BIGSERIAL PRIMARY KEY, account_id BIGINT NOT NULL REFERENCES acct (id),
  amount_fen BIGINT NOT NULL);
CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, actor TEXT NOT NULL, action TEXT NOT NULL,
  digest TEXT NOT NULL);
"""

app = FastAPI()
_connections = threading.local()


def _connection() -> psycopg.Connection[Any]:
    """One connection per thread-pool thread, kept for the process's life."""
    conn = getattr(_connections, "conn", None)
    if conn is None:
        conn = _connections.conn = psycopg.connect(os.environ["LEAN_DSN"], autocommit=True)
    return conn


def _subject(request: Request) -> str:
    token = request.headers["authorization"].removeprefix("Bearer ")
    return str(jwt.decode(token, SECRET, algorithms=["HS256"])["sub"])


def _read(ref: str, owner: str) -> bytes:
    row = (
        _connection()
        .execute(
            "SELECT a.ref, a.line_fen, a.principal_fen, a.status, l.balance_fen FROM acct a"
            " JOIN ledger l ON l.id = a.id WHERE a.ref = %s AND a.owner = %s",
            (ref, owner),
        )
        .fetchone()
    )
    if row is None:
        return b"{}"
    keys = ("ref", "line_fen", "principal_fen", "status", "balance_fen")
    return json.dumps(dict(zip(keys, row, strict=True))).encode()


def _move(ref: str, owner: str, key: str, amount_fen: int) -> bytes:
    conn = _connection()
    with conn.transaction():
        account = conn.execute(
            "SELECT id FROM acct WHERE ref = %s AND owner = %s FOR UPDATE", (ref, owner)
        ).fetchone()
        assert account is not None
        conn.execute("INSERT INTO idem (key) VALUES (%s)", (key,))
        entry = conn.execute("INSERT INTO entry (ref) VALUES (%s) RETURNING id", (key,)).fetchone()
        assert entry is not None
        conn.execute(
            "INSERT INTO leg (entry_id, account_id, amount_fen) VALUES (%s, %s, %s), (%s, 0, %s)",
            (entry[0], account[0], amount_fen, entry[0], -amount_fen),
        )
        conn.execute(
            "UPDATE ledger SET balance_fen = balance_fen + %s WHERE id = %s",
            (amount_fen, account[0]),
        )
        conn.execute(
            "UPDATE acct SET principal_fen = principal_fen + %s WHERE id = %s",
            (amount_fen, account[0]),
        )
        conn.execute(
            "INSERT INTO draw (account_id, amount_fen) VALUES (%s, %s)", (account[0], amount_fen)
        )
        conn.execute(
            "INSERT INTO audit (actor, action, digest) VALUES (%s, 'move', md5(%s))", (owner, key)
        )
        conn.execute("UPDATE idem SET body = '{\"ok\": true}' WHERE key = %s", (key,))
    return b'{"ok": true}'


@app.get("/v1/accounts/{ref}")
async def read_account(ref: str, request: Request) -> Response:
    body = await run_in_threadpool(_read, ref, _subject(request))
    return Response(body, media_type="application/json")


@app.post("/v1/accounts/{ref}/{kind}")
async def move_money(ref: str, kind: str, request: Request) -> Response:
    owner = _subject(request)
    amount_fen = int((await request.json())["amount_fen"])
    signed = amount_fen if kind == "draws" else -amount_fen
    key = request.headers["idempotency-key"]
    body = await run_in_threadpool(_move, ref, owner, key, signed)
    return Response(body, status_code=201, media_type="application/json")


@app.get("/v1/floor")
async def floor() -> Response:
    return Response(b"{}", media_type="application/json")
