import datetime as dt

import pytest

from limitwise.kit.clock import Clock


def test_fixed_clock_is_deterministic():
    clock = Clock.fixed(dt.date(2026, 3, 1))
    assert clock.today() == dt.date(2026, 3, 1)
    assert clock.now() == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    at = dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC)
    assert Clock.fixed(dt.date(2026, 3, 1), at=at).now() == at


def test_business_date_only_moves_forward():
    clock = Clock.fixed(dt.date(2026, 3, 1))
    clock.advance_to(dt.date(2026, 3, 2))
    assert clock.today() == dt.date(2026, 3, 2)
    with pytest.raises(ValueError):
        clock.advance_to(dt.date(2026, 2, 28))
