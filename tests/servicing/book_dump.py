"""A canonical dump of a whole book, for comparing two databases that lived the same life.

Ids, refs and timestamps are left out (each engine draws its own); everything a borrower or
an auditor sees is in: every leg of each credit account's ledger accounts in order (the
entry's kind and date, whether it reverses, the amount and the running balance), every
ledger balance (the lender's income included), every instalment and draw field, the
account's days past due, bucket and closed-through date, its events, allocations and the
postings that are its own entries.

How legs are grouped into entries is the one thing the engines do differently: the
per-account engine posts an account's accruals of a day as an entry of its own, the
set-based one as its legs in the partition's summary entry of the day. So the dump keeps,
of each entry an account has legs in, the account's own legs (the share a replay reverses),
and the trial balance proves each entry balances.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine, text

from limitwise.kit.db import unit_of_work
from limitwise.ledger import service as ledger
from limitwise.ledger.check import check_trial_balance

#: The refs each database draws at random (in event payloads).
RANDOM_REF = re.compile(r"\b(draw|rep|je)_[0-9a-f]{32}\b")
OWNED_LEGS = text(
    "SELECT a.owner_ref, a.code, e.kind, e.effective_date, l.amount_fen, l.balance_after_fen"
    " FROM journal_legs l JOIN journal_entries e ON e.id = l.entry_id"
    " JOIN ledger_accounts a ON a.id = l.account_id WHERE a.owner_ref IS NOT NULL"
    " ORDER BY e.id, l.id"
)
ACCOUNTS = text(
    "SELECT id, ref, status, line_fen, cob_through, days_past_due, bucket, next_seq"
    " FROM credit_accounts ORDER BY ref"
)
DRAWS = text(
    "SELECT credit_account_id, seq, amount_fen, repayment_type, principal_outstanding_fen,"
    " accrual_remainder_nfen, status, id FROM draws ORDER BY credit_account_id, seq"
)
INSTALMENTS = text(
    "SELECT draw_id, seq, period_start, due_date, principal_due_fen, interest_scheduled_fen,"
    " interest_accrued_fen, penalty_accrued_fen, penalty_remainder_nfen, fee_charged_fen,"
    " principal_paid_fen, interest_paid_fen, penalty_paid_fen, fee_paid_fen"
    " FROM instalments ORDER BY draw_id, seq"
)
EVENTS = text("SELECT credit_account_id, kind, as_of, payload_json FROM account_events ORDER BY id")
ALLOCATIONS = text(
    "SELECT credit_account_id, timing, component, amount_fen, effective_date,"
    " CASE WHEN superseded THEN 1 ELSE 0 END"
    " FROM allocations ORDER BY id"
)
#: Postings index the entries that are an account's own: a day's accruals are one under the
#: per-account engine and a share of a summary entry under the set-based one, so only the
#: other kinds are compared (the accrual legs themselves are, above).
POSTINGS = text(
    "SELECT credit_account_id, kind, effective_date, CASE WHEN reversed THEN 1 ELSE 0 END"
    " FROM servicing_postings WHERE kind <> 'accrual' ORDER BY id"
)


def dump_book(engine: Engine) -> dict[str, Any]:
    """The book per account ref, after proving the trial balance."""
    with unit_of_work(engine) as session:
        report = check_trial_balance(session)
        assert report.ok, report.problems
        conn = session.connection()
        accounts = {row[0]: row[1] for row in conn.execute(ACCOUNTS)}
        book: dict[str, Any] = {
            ref: {"account": tuple(str(v) for v in row[2:]), "events": []}
            for row in conn.execute(ACCOUNTS)
            for ref in [row[1]]
        }
        draw_owner: dict[int, str] = {}
        for row in conn.execute(DRAWS):
            ref = accounts[row[0]]
            draw_owner[row[7]] = ref
            book[ref].setdefault("draws", []).append(tuple(str(v) for v in row[1:7]))
        for row in conn.execute(INSTALMENTS):
            book[draw_owner[row[0]]].setdefault("instalments", []).append(
                tuple(str(v) for v in row[1:])
            )
        for account_id, kind, as_of, payload in conn.execute(EVENTS):
            book[accounts[account_id]]["events"].append(
                (kind, str(as_of), RANDOM_REF.sub("<ref>", payload))
            )
        for account_id, *rest in conn.execute(ALLOCATIONS):
            book[accounts[account_id]].setdefault("allocations", []).append(
                tuple(str(v) for v in rest)
            )
        for account_id, *rest in conn.execute(POSTINGS):
            book[accounts[account_id]].setdefault("postings", []).append(
                tuple(str(v) for v in rest)
            )
        for owner, code, kind, day, amount, after in conn.execute(OWNED_LEGS):
            if owner in book:
                legs = book[owner].setdefault("legs", {}).setdefault(code, [])
                legs.append((kind, str(day), int(amount), after))
        balances = {
            b.code: (b.balance_fen, b.pending_debit_fen) for b in ledger.all_balances(session)
        }
    return {"accounts": book, "balances": balances}


def first_difference(left: Any, right: Any, path: str = "") -> str | None:
    """Where two dumps first differ (for a readable assertion message)."""
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right), key=str):
            if key not in left or key not in right:
                return f"{path}/{key}: only on one side"
            found = first_difference(left[key], right[key], f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        for n, (a, b) in enumerate(zip(left, right, strict=False)):
            found = first_difference(a, b, f"{path}[{n}]")
            if found:
                return found
        if len(left) != len(right):
            extra = left[len(right) :][:2] or right[len(left) :][:2]
            return f"{path}: {len(left)} items != {len(right)}; extra {extra}"
        return None
    return None if left == right else f"{path}: {left!r} != {right!r}"
