"""A Hypothesis state machine drives the ledger and checks it against a tiny reference model.

After every step: the database agrees with the model (balances, pending, lines), the trial
balance holds, and a refused command changed nothing at all.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from limitwise.kit.db import unit_of_work
from limitwise.kit.errors import LimitwiseError
from limitwise.ledger import service as ledger
from limitwise.ledger.check import check_trial_balance
from limitwise.ledger.idempotency import IdempotencyConflict
from limitwise.ledger.service import LimitExceeded, WouldOverdraw
from tests.ledger.helpers import FUNDING, draw, keyed_draw, principal, row_counts

amounts = st.integers(min_value=1, max_value=600_00)


@dataclass
class ModelAccount:
    line_fen: int
    principal_fen: int = 0
    pending_fen: int = 0


@dataclass
class Model:
    accounts: dict[str, ModelAccount] = field(default_factory=dict)
    holds: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: entry ref -> (account, principal change it made); removed once reversed.
    entries: dict[str, tuple[str, int]] = field(default_factory=dict)
    keys: dict[str, tuple[str, int, str]] = field(default_factory=dict)


def make_machine(engine, clock):
    run = uuid.uuid4().hex[:8]

    class LedgerMachine(RuleBasedStateMachine):
        accounts = Bundle("accounts")
        holds = Bundle("holds")
        entries = Bundle("entries")
        keys = Bundle("keys")

        def __init__(self) -> None:
            super().__init__()
            self.model = Model()
            self.counter = 0

        def fresh(self, prefix: str) -> str:
            self.counter += 1
            return f"{prefix}{run}-{id(self)}-{self.counter}"

        def snapshot(self):
            with unit_of_work(engine) as session:
                books = {
                    ref: ledger.balance(session, principal(ref)) for ref in self.model.accounts
                }
            return books, row_counts(engine)

        def refused(self, command, *errors):
            """Run a command the model says must be refused; prove it changed nothing."""
            before = self.snapshot()
            with pytest.raises(errors):
                command()
            assert self.snapshot() == before

        @rule(target=accounts, line=st.integers(min_value=0, max_value=2000_00))
        def open(self, line):
            ref = self.fresh("acct")
            with unit_of_work(engine) as session:
                ledger.open_credit_books(session, clock, owner_ref=ref, line_fen=line)
            self.model.accounts[ref] = ModelAccount(line)
            return ref

        @rule(target=holds, ref=accounts, amount=amounts)
        def reserve(self, ref, amount):
            acct = self.model.accounts[ref]

            def command():
                with unit_of_work(engine) as session:
                    return ledger.reserve(
                        session,
                        clock,
                        debit_code=principal(ref),
                        credit_code=FUNDING,
                        amount_fen=amount,
                    )

            if acct.principal_fen + acct.pending_fen + amount > acct.line_fen:
                self.refused(command, LimitExceeded)
                return None
            hold = command()
            acct.pending_fen += amount
            self.model.holds[hold.hold_ref] = (ref, amount)
            return hold.hold_ref

        @rule(target=entries, hold=holds)
        def post(self, hold):
            if hold is None:
                return None

            def command():
                with unit_of_work(engine) as session:
                    return ledger.post_hold(session, clock, hold_ref=hold)

            ref, amount = self.model.holds[hold]
            if amount == 0:  # already posted or voided
                self.refused(command, LimitwiseError)
                return None
            entry = command()
            acct = self.model.accounts[ref]
            acct.pending_fen -= amount
            acct.principal_fen += amount
            self.model.entries[entry.entry_ref] = (ref, amount)
            self.model.holds[hold] = (ref, 0)
            return entry.entry_ref

        @rule(hold=holds)
        def void(self, hold):
            if hold is None:
                return

            def command():
                with unit_of_work(engine) as session:
                    ledger.void_hold(session, clock, hold_ref=hold)

            ref, amount = self.model.holds[hold]
            if amount == 0:
                self.refused(command, LimitwiseError)
                return
            command()
            self.model.accounts[ref].pending_fen -= amount
            self.model.holds[hold] = (ref, 0)

        @rule(target=entries, ref=accounts, amount=amounts)
        def repay(self, ref, amount):
            acct = self.model.accounts[ref]

            def command():
                with unit_of_work(engine) as session:
                    return ledger.transfer(
                        session,
                        clock,
                        debit_code=FUNDING,
                        credit_code=principal(ref),
                        amount_fen=amount,
                    )

            if amount > acct.principal_fen:
                self.refused(command, WouldOverdraw)
                return None
            entry = command()
            acct.principal_fen -= amount
            self.model.entries[entry.entry_ref] = (ref, -amount)
            return entry.entry_ref

        @rule(entry=entries)
        def reverse(self, entry):
            if entry is None:
                return

            def command():
                with unit_of_work(engine) as session:
                    ledger.reverse(session, clock, entry_ref=entry)

            if entry not in self.model.entries:
                self.refused(command, LimitwiseError)
                return
            ref, change = self.model.entries[entry]
            acct = self.model.accounts[ref]
            if acct.principal_fen - change < 0:
                self.refused(command, WouldOverdraw)
                return
            command()
            acct.principal_fen -= change
            del self.model.entries[entry]

        @rule(ref=accounts, line=st.integers(min_value=0, max_value=2000_00))
        def change_line(self, ref, line):
            with unit_of_work(engine) as session:
                ledger.set_line(session, owner_ref=ref, line_fen=line)
            self.model.accounts[ref].line_fen = line

        @rule(target=keys, ref=accounts, amount=amounts)
        def idempotent_draw(self, ref, amount):
            key = self.fresh("key")
            acct = self.model.accounts[ref]
            if acct.principal_fen + acct.pending_fen + amount > acct.line_fen:
                self.refused(lambda: keyed_draw(engine, clock, ref, amount, key), LimitExceeded)
                return None
            entry = keyed_draw(engine, clock, ref, amount, key)
            acct.principal_fen += amount
            self.model.entries[entry.entry_ref] = (ref, amount)
            self.model.keys[key] = (ref, amount, entry.entry_ref)
            return key

        @rule(key=keys)
        def retry_same_key(self, key):
            if key is None:
                return
            ref, amount, entry_ref = self.model.keys[key]
            before = self.snapshot()
            assert keyed_draw(engine, clock, ref, amount, key).entry_ref == entry_ref
            assert self.snapshot() == before

        @rule(key=keys, other=amounts)
        def conflicting_key(self, key, other):
            if key is None:
                return
            ref, amount, _ = self.model.keys[key]
            if other == amount:
                return
            self.refused(lambda: keyed_draw(engine, clock, ref, other, key), IdempotencyConflict)

        @precondition(lambda self: bool(self.model.accounts))
        @rule(data=st.data(), draws=st.lists(amounts, min_size=2, max_size=4))
        def concurrent_draws(self, data, draws):
            ref = data.draw(st.sampled_from(sorted(self.model.accounts)))
            acct = self.model.accounts[ref]
            accepted: list[tuple[int, str]] = []
            refused: list[int] = []
            errors: list[Exception] = []

            def worker(amount: int) -> None:
                try:
                    entry = draw(engine, clock, ref, amount)
                    accepted.append((amount, entry.entry_ref))
                except LimitExceeded:
                    refused.append(amount)
                except Exception as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=worker, args=(a,)) for a in draws]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            acct.principal_fen += sum(a for a, _ in accepted)
            for amount, entry_ref in accepted:
                self.model.entries[entry_ref] = (ref, amount)
            # Usage only grows during the burst, so a refused draw cannot fit at the end either.
            for amount in refused:
                assert acct.principal_fen + acct.pending_fen + amount > acct.line_fen

        @invariant()
        def database_matches_model(self):
            if not self.model.accounts:
                return
            books, _ = self.snapshot()
            for ref, acct in self.model.accounts.items():
                got = books[ref]
                assert (got.balance_fen, got.pending_debit_fen, got.debit_limit_fen) == (
                    acct.principal_fen,
                    acct.pending_fen,
                    acct.line_fen,
                )

        @invariant()
        def trial_balance_holds(self):
            with unit_of_work(engine) as session:
                report = check_trial_balance(session)
            assert report.ok, report.problems

    return LedgerMachine


def test_ledger_state_machine(engine, clock):
    examples = 12 if engine.dialect.name == "postgresql" else 25
    run_state_machine_as_test(
        make_machine(engine, clock),
        settings=settings(
            max_examples=examples,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
