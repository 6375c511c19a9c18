"""The demo builds its book through servicing and is safe to run twice."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from limitwise.demo import run_demo
from limitwise.kit.db import make_engine
from tests.servicing.helpers import entry_count


def test_demo_is_deterministic_and_rerunnable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first, second = io.StringIO(), io.StringIO()
    assert run_demo(url, accounts=5, console=Console(file=first, width=140)) == 0
    engine = make_engine(url)
    entries = entry_count(engine)
    assert run_demo(url, accounts=5, console=Console(file=second, width=140)) == 0
    assert entry_count(engine) == entries
    engine.dispose()
    book = first.getvalue()
    assert "trial balance OK" in book and "M2" in book and "equal_principal" in book
    assert book.split("Demo book")[1] == second.getvalue().split("Demo book")[1]
