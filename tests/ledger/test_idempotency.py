import threading

import pytest

from limitwise.kit.errors import InvalidInput
from limitwise.ledger.idempotency import IdempotencyConflict
from limitwise.ledger.service import LimitExceeded
from tests.ledger.helpers import keyed_draw, open_books, principal_state, row_counts


def test_same_key_same_request_returns_the_original(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    first = keyed_draw(engine, clock, "A", 100_00, "k1")
    again = keyed_draw(engine, clock, "A", 100_00, "k1")
    assert again == first
    assert principal_state(engine, "A")[0] == 100_00
    assert row_counts(engine) == (1, 1)


def test_same_key_different_request_is_a_conflict(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    keyed_draw(engine, clock, "A", 100_00, "k1")
    with pytest.raises(IdempotencyConflict) as caught:
        keyed_draw(engine, clock, "A", 200_00, "k1")
    assert caught.value.code == "idempotency_key_reused"
    assert caught.value.http_status == 409
    assert principal_state(engine, "A")[0] == 100_00


def test_a_refused_command_leaves_its_key_free(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    with pytest.raises(LimitExceeded):
        keyed_draw(engine, clock, "A", 2000_00, "k1")
    assert row_counts(engine) == (0, 0)
    keyed_draw(engine, clock, "A", 500_00, "k2")
    with pytest.raises(LimitExceeded):
        keyed_draw(engine, clock, "A", 2000_00, "k1")


@pytest.mark.parametrize("key", ["", "   ", "x" * 129])
def test_keys_must_be_present_and_short(engine, clock, key):
    open_books(engine, clock, "A", 1000_00)
    with pytest.raises(InvalidInput) as caught:
        keyed_draw(engine, clock, "A", 1_00, key)
    assert caught.value.field == "key"


def test_concurrent_retries_of_one_key_apply_once(engine, clock):
    open_books(engine, clock, "A", 1000_00)
    results, errors = [], []

    def worker():
        try:
            results.append(keyed_draw(engine, clock, "A", 100_00, "same"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({r.entry_ref for r in results}) == 1
    assert principal_state(engine, "A")[0] == 100_00
