from limitwise.kit.db import unit_of_work
from limitwise.ledger import service as ledger
from limitwise.ledger.check import check_trial_balance


def test_open_and_check(engine, clock):
    with unit_of_work(engine) as session:
        ledger.open_credit_books(session, clock, owner_ref="A", line_fen=100)
    with unit_of_work(engine) as session:
        assert check_trial_balance(session).ok
