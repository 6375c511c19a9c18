"""Conventions checked by code: SQL only in repositories, time only through the clock,
domains independent of the HTTP application."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "limitwise"
QUERY_BUILDERS = {"select", "insert", "update", "delete", "text"}
SQL_HOMES = {"repository.py", "queries.py"}
WALL_CLOCK_CALLS = {
    ("date", "today"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("time", "time"),
}
CLOCK_HOME = SRC / "kit" / "clock.py"
UNIT_OF_WORK_HOME = SRC / "kit" / "db.py"


def _modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "migrations" not in p.parts]


def sql_offenders(paths: Iterable[Path]) -> list[str]:
    """Modules outside a repository that import SQLAlchemy's query builders or call them
    through the module (``sa.select(...)``)."""
    offenders = []
    for path in paths:
        if path.name in SQL_HOMES:
            continue
        tree = ast.parse(path.read_text())
        modules = _sqlalchemy_aliases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                names = {alias.name for alias in node.names} & QUERY_BUILDERS
                if names:
                    offenders.append(f"{path.name} imports {sorted(names)}")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in QUERY_BUILDERS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in modules
            ):
                offenders.append(
                    f"{path.name}:{node.lineno} calls {node.func.value.id}.{node.func.attr}"
                )
    return offenders


def _sqlalchemy_aliases(tree: ast.Module) -> set[str]:
    """Names the module binds to ``sqlalchemy`` itself (``import sqlalchemy as sa``)."""
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "sqlalchemy"
    }


def commit_offenders(paths: Iterable[Path]) -> list[str]:
    """``.commit()`` anywhere but the unit of work: services never commit."""
    return [
        f"{path.name}:{node.lineno}"
        for path in paths
        if path != UNIT_OF_WORK_HOME
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def wall_clock_offenders(paths: Iterable[Path]) -> list[str]:
    """Calls such as ``date.today()`` or ``datetime.now()`` outside the clock module."""
    offenders = []
    for path in paths:
        if path == CLOCK_HOME:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                owner_name = (
                    owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
                )
                if (owner_name, node.func.attr) in WALL_CLOCK_CALLS:
                    offenders.append(f"{path.name}:{node.lineno}")
    return offenders


def test_queries_are_built_only_in_repositories():
    assert sql_offenders(_modules()) == []


def test_business_code_never_reads_the_wall_clock():
    assert wall_clock_offenders(_modules()) == []


def test_only_the_unit_of_work_commits():
    assert commit_offenders(_modules()) == []


def test_the_checks_catch_an_offender(tmp_path):
    bad = tmp_path / "service.py"
    bad.write_text("from sqlalchemy import select\nimport datetime\nx = datetime.date.today()\n")
    assert sql_offenders([bad]) == ["service.py imports ['select']"]
    assert wall_clock_offenders([bad]) == ["service.py:3"]


def test_the_checks_catch_sql_through_the_module_and_a_commit(tmp_path):
    bad = tmp_path / "service.py"
    bad.write_text(
        "import sqlalchemy as sa\n"
        "import sqlalchemy\n"
        "def pay(session, table):\n"
        "    session.execute(sa.select(table))\n"
        "    session.execute(sqlalchemy.text('DELETE FROM t'))\n"
        "    session.commit()\n"
        "    other.select(table)\n"
    )
    assert sql_offenders([bad]) == [
        "service.py:4 calls sa.select",
        "service.py:5 calls sqlalchemy.text",
    ]
    assert commit_offenders([bad]) == ["service.py:6"]


#: What a domain's ``endpoints.py`` may take from the API package: never the app itself.
API_FOR_ENDPOINTS = {"limitwise.api.runtime", "limitwise.api.problems"}


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def api_import_offenders(paths: Iterable[Path]) -> list[str]:
    """Domain modules importing ``limitwise.api`` (only endpoints.py, runtime/problems)."""
    offenders = []
    for path in paths:
        if path.parent == SRC or path.parent.name == "api":
            continue  # the command line and the app itself sit above the domains
        for lineno, module in _imported_modules(ast.parse(path.read_text())):
            if module != "limitwise.api" and not module.startswith("limitwise.api."):
                continue
            if path.name != "endpoints.py" or module not in API_FOR_ENDPOINTS:
                offenders.append(f"{path.parent.name}/{path.name}:{lineno} imports {module}")
    return offenders


def test_domains_never_import_the_api_application():
    assert api_import_offenders(_modules()) == []


def test_the_api_check_catches_an_offender(tmp_path):
    domain = tmp_path / "servicing"
    domain.mkdir()
    (domain / "endpoints.py").write_text(
        "from limitwise.api.runtime import Runtime\nfrom limitwise.api.app import create_app\n"
    )
    (domain / "service.py").write_text("def f():\n    import limitwise.api.problems\n")
    assert api_import_offenders(sorted(domain.iterdir())) == [
        "servicing/endpoints.py:2 imports limitwise.api.app",
        "servicing/service.py:2 imports limitwise.api.problems",
    ]
