"""Concurrent draws can never push outstanding principal over the line."""

import threading

from limitwise.kit.db import unit_of_work
from limitwise.ledger.check import check_trial_balance
from limitwise.ledger.service import LimitExceeded
from tests.ledger.helpers import draw, open_books, principal_state


def test_concurrent_draws_never_exceed_the_line(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    open_books(engine, clock, "B", 1000_00)
    accepted, refused, errors = [], [], []
    lock = threading.Lock()

    def worker(ref: str, amount_fen: int) -> None:
        try:
            draw(engine, clock, ref, amount_fen)
            with lock:
                accepted.append((ref, amount_fen))
        except LimitExceeded:
            with lock:
                refused.append((ref, amount_fen))
        except Exception as exc:  # asserted empty below
            errors.append(exc)

    jobs = [("A", 300_00)] * 8 + [("B", 250_00)] * 8
    threads = [threading.Thread(target=worker, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(accepted) == [("A", 300_00)] * 3 + [("B", 250_00)] * 4
    assert len(refused) == 9
    assert principal_state(engine, "A") == (900_00, 0, 1000_00)
    assert principal_state(engine, "B") == (1000_00, 0, 1000_00)
    with unit_of_work(engine) as session:
        assert check_trial_balance(session).ok
