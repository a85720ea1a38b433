"""Every statement on the execution tables lives in the executions package's two repository modules
(DESIGN.md section 2): ``repository`` (caller-scoped reads), ``lifecycle_repository`` (what a run's
lifecycle writes and reads by id) and ``archive_repository`` (a run's archive document, tombstone and restore). Agents, the runner, the rescue, exports, sharing and the list call them.

Walks the product's modules and fails on a string constant with SQL on executions, execution_steps,
execution_items, execution_logs or execution_reviews (``FROM``/``JOIN``/``INTO``/``UPDATE`` the table), or
a query through their Piccolo tables (``Execution.select``, ``ExecutionStep.insert``, ...), anywhere else.
Docstrings are prose, not statements: they are not read. A self-check runs the checker on a sample.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.pure  # source only: no database, no Redis
PACKAGES = ["platform", "agents", "billing", "notifications", "web"]
HOMES = {ROOT / "platform" / "executions" / name for name in ("repository.py", "lifecycle_repository.py",
                                                              "archive_repository.py")}
SQL = re.compile(r"\b(FROM|JOIN|INTO|UPDATE)\s+execution(s|_steps|_items|_logs|_reviews)\b")
TABLES = {"Execution", "ExecutionStep", "ExecutionItem", "ExecutionLog", "ExecutionReview"}
QUERIES = {"select", "insert", "update", "delete", "objects", "raw", "count", "exists"}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _table_names(tree: ast.AST) -> dict[str, str]:
    """Local name -> table class, for the tables imported under another name too."""
    names = {name: name for name in TABLES}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in TABLES:
                    names[alias.asname or alias.name] = alias.name
    return names


def _table_of(node: ast.AST, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute) and node.attr in TABLES:  # tables.Execution.select
        return node.attr
    return None


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    docstrings, names = _docstrings(tree), _table_names(tree)
    where = path.relative_to(ROOT)
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                and (match := SQL.search(node.value))):
            found.append((node.lineno, f"{where}:{node.lineno} SQL on {match.group(0).split()[-1]}"))
        elif isinstance(node, ast.Attribute) and node.attr in QUERIES and (table := _table_of(node.value, names)):
            found.append((node.lineno, f"{where}:{node.lineno} queries {table}.{node.attr}"))
    return [text for _, text in sorted(found)]


def product_modules() -> list[Path]:
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py")) if p not in HOMES]


def test_only_the_executions_repositories_touch_the_execution_tables():
    modules = product_modules()
    assert len(modules) > 50 and all(home.exists() for home in HOMES)  # the walk covers the code
    assert any(violations(home) for home in HOMES)  # and would see the statements where they live
    problems = [v for module in modules for v in violations(module)]
    assert problems == [], ("call a function of platform/executions/repository.py (caller-scoped reads) or "
                            "lifecycle_repository.py (a run's lifecycle) instead:\n" + "\n".join(problems))


def test_the_checker_catches_statements_on_execution_tables(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Reads FROM executions: a docstring is prose."""\n'
        "from agentledger.platform.executions.tables import ExecutionStep as Step\n"
        "async def leak(run_id):\n"
        "    '''Nor does UPDATE executions in a docstring count.'''\n"
        "    await fetch('SELECT * FROM executions WHERE id = {}', run_id)\n"
        "    await fetch(f'UPDATE execution_steps SET status = {{}} WHERE id = {run_id}')\n"
        "    await fetch('INSERT INTO execution_logs (execution) VALUES ({})', run_id)\n"
        "    await fetch('SELECT 1 FROM share_links l JOIN execution_reviews r ON TRUE')\n"
        "    await Execution.select().where(Execution.id == run_id)\n"
        "    await Step.update({Step.status: 'x'})\n"
        "    await tables.ExecutionItem.count()\n"
        "    await fetch('SELECT * FROM execution_results')\n"
        "    await ExecutionResult.select()\n"
        "    note = 'the executions from the list'\n"
    )
    original = ROOT
    globals()["ROOT"] = tmp_path
    try:
        found = violations(sample)
    finally:
        globals()["ROOT"] = original
    assert [line.split(":")[1].split()[0] for line in found] == ["5", "6", "7", "8", "9", "10", "11"]
