"""Which runs a caller sees is one rule, in ``platform/executions/repository.py`` (DESIGN.md section 2):
no other module filters runs by who started them, by a share, or by a schedule's owner.

Walks the product's modules and fails on:

- a Piccolo comparison or ``is_in``/``not_in`` on ``Execution.started_by`` or ``Execution.schedule``
  (also through a join, ``Execution.started_by.email``);
- raw SQL filtering on ``started_by`` (``started_by =``, ``<>``, ``IN (``, ``IS [NOT] DISTINCT FROM``) or on a
  run's ``schedule`` (``e.schedule =``, ``executions.schedule IN (``);
- raw SQL using ``execution_shares`` to filter runs: a statement on ``executions`` that also reads the shares,
  a subquery ``IN (SELECT ... FROM execution_shares``, or the shared runs' ids (``SELECT execution FROM
  execution_shares``, to be used in one); sharing's own statements on its table are fine;
- in ``web/``, a Python comparison of a run's ``started_by`` (``row["started_by"]``, ``event.get("started_by")``,
  ``run.started_by``) with anything: the pages and the API ask the rule instead.

Docstrings are prose, not statements: they are not read. ``may_act`` (who may change a run) is another
rule and lives in the repository too. A self-check runs the checker on a sample.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure  # source only: no database, no Redis

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["platform", "agents", "billing", "notifications", "web"]
HOME = ROOT / "platform" / "executions" / "repository.py"
COLUMNS = {"started_by", "schedule"}
STARTER_SQL = re.compile(r"\bstarted_by\s*(=|<>|!=|\bIN\s*\(|\bIS\s+(NOT\s+)?DISTINCT\s+FROM\b)", re.IGNORECASE)
SCHEDULE_SQL = re.compile(r"\b(e|executions)\.schedule\s*(=|<>|!=|\bIN\s*\()", re.IGNORECASE)
RUNS_SQL = re.compile(r"\b(FROM|JOIN|UPDATE)\s+executions\b", re.IGNORECASE)
SHARES_SQL = re.compile(r"\bexecution_shares\b", re.IGNORECASE)
SHARES_SUBQUERY = re.compile(r"\bIN\s*\(\s*SELECT\b[^)]*\bFROM\s+execution_shares\b"
                             r"|\bSELECT\s+(\w+\.)?execution\s+FROM\s+execution_shares\b", re.IGNORECASE)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _run_column(node: ast.AST) -> bool:
    """``Execution.started_by`` or ``Execution.schedule``, or a join through one of them."""
    return any(isinstance(n, ast.Attribute) and n.attr in COLUMNS and isinstance(n.value, ast.Name)
               and n.value.id == "Execution" for n in ast.walk(node))


def _starter_of_a_row(node: ast.AST) -> bool:
    """``x["started_by"]``, ``x.get("started_by")`` or ``x.started_by``."""
    if isinstance(node, ast.Subscript):
        key = node.slice
        return isinstance(key, ast.Constant) and key.value == "started_by"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        return bool(node.args) and isinstance(node.args[0], ast.Constant) and node.args[0].value == "started_by"
    return isinstance(node, ast.Attribute) and node.attr == "started_by"


def _strings(tree: ast.AST, docstrings: set[int]) -> list[tuple[int, str]]:
    """String constants, and each f-string's constant parts joined (``f"... {x} IS DISTINCT FROM ..."``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            found.append((node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)))
    return found


def violations(path: Path, *, web: bool | None = None) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(ROOT)
    web = (ROOT / "web") in path.parents if web is None else web
    found: set[tuple[int, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_run_column(side) for side in sides):
                found.add((node.lineno, "compares a run's starter or schedule (Piccolo)"))
            elif web and any(_starter_of_a_row(side) for side in sides):
                found.add((node.lineno, "compares a run's started_by in the web tier"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in {"is_in", "not_in", "is_null", "is_not_null"} and _run_column(node.func.value)):
            found.add((node.lineno, "filters a run's starter or schedule (Piccolo)"))
    for line, text in _strings(tree, _docstrings(tree)):
        if STARTER_SQL.search(text) or SCHEDULE_SQL.search(text):
            found.add((line, "filters runs by starter or schedule in SQL"))
        if SHARES_SQL.search(text) and (RUNS_SQL.search(text) or SHARES_SUBQUERY.search(text)):
            found.add((line, "filters runs by their shares in SQL"))
    return [f"{where}:{line} {what}" for line, what in sorted(found)]


def product_modules() -> list[Path]:
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py")) if p != HOME]


def test_only_the_executions_repository_decides_which_runs_a_caller_sees():
    modules = product_modules()
    assert len(modules) > 50 and HOME.exists()  # the walk covers the code
    assert violations(HOME)  # and would see the rule where it lives
    problems = [v for module in modules for v in violations(module)]
    assert problems == [], ("ask platform/executions/repository.py (visible, visible_sql, visible_ids, list_sql) "
                            "instead:\n" + "\n".join(problems))


def test_the_checker_catches_each_way_of_filtering_runs(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Runs WHERE started_by = the caller: a docstring is prose."""\n'
        "async def leak(me, run, event):\n"
        "    await Execution.select().where(Execution.started_by == me)\n"
        "    await Execution.select().where(Execution.schedule.created_by.is_in([me]))\n"
        "    await fetch('SELECT * FROM executions e WHERE e.started_by = {}', me)\n"
        "    await fetch(f'SELECT 1 FROM x WHERE started_by IS DISTINCT FROM {me}')\n"
        "    await fetch('SELECT * FROM executions e WHERE e.schedule = {}', me)\n"
        "    await fetch('SELECT e.* FROM execution_shares s JOIN executions e ON e.id = s.execution')\n"
        "    await fetch('SELECT * FROM runs WHERE id IN (SELECT execution FROM execution_shares s)')\n"
        "    mine = 'SELECT s.execution FROM execution_shares s WHERE s.\"user\" = {}'\n"
        "    if run['started_by'] == me or event.get('started_by') != str(me):\n"
        "        return run.started_by in {me}\n"
        "    await fetch('DELETE FROM execution_shares WHERE \"user\" = {}', me)\n"
        "    await Execution.select().where(Execution.status == 'queued')\n"
        "    await fetch('SELECT u.name FROM users u WHERE u.id = e.started_by')\n"
        "    note = 'runs you started'\n"
    )
    original = ROOT
    globals()["ROOT"] = tmp_path
    try:
        found = violations(sample, web=True)
        outside_web = violations(sample, web=False)
    finally:
        globals()["ROOT"] = original
    assert [int(line.split(":")[1].split()[0]) for line in found] == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert [int(line.split(":")[1].split()[0]) for line in outside_web] == [3, 4, 5, 6, 7, 8, 9, 10]
