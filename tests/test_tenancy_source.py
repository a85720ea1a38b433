"""The one scoping helper is the only code that filters by workspace (DESIGN.md section 2).

Walks every module of the product and fails on a comparison against a ``workspace`` column, a
``.is_in`` on one, or raw SQL filtering ``workspace =`` anywhere but ``platform/scoping.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure  # no database, no Redis of the tests: the clean fixture empties nothing

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["platform", "agents", "billing", "notifications", "web"]
ALLOWED = {ROOT / "platform" / "scoping.py"}
WORKSPACE_ATTRS = {"workspace", "workspace_id"}
RAW_SQL_FILTER = re.compile(r"\bworkspace(_id)?\b\s*(=|<>|!=)|\bworkspace(_id)?\s+IN\s*\(", re.IGNORECASE)


def _mentions_workspace_column(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr in WORKSPACE_ATTRS for n in ast.walk(node))


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and _mentions_workspace_column(node):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} compares a workspace column")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in {"is_in", "not_in", "eq"} and _mentions_workspace_column(node.func.value)):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} filters a workspace column")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and RAW_SQL_FILTER.search(node.value):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} filters by workspace in raw SQL")
    return found


def product_modules() -> list[Path]:
    return [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if p not in ALLOWED]


def test_only_the_scoping_helper_filters_by_workspace():
    modules = product_modules()
    assert len(modules) > 20  # the walk really covers the code
    problems = [v for module in modules for v in violations(module)]
    assert problems == [], "filter through agentledger.platform.scoping instead:\n" + "\n".join(problems)


def test_the_checker_catches_hand_written_filters(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "async def leak(ws):\n"
        "    await Membership.select().where(Membership.workspace == ws)\n"
        "    await Membership.select().where(Membership.workspace.slug == 'acme')\n"
        "    await Token.select().where(Token.workspace.is_in([ws]))\n"
        "    await fetch('SELECT * FROM executions WHERE workspace = {}', ws)\n"
        "    await fetch('SELECT * FROM executions WHERE workspace_id IN ({})', ws)\n"
        "    await Membership.select().where(Membership.user == ws)\n"
        "    help = 'every member of the workspace in every state'\n"
    )
    original = ROOT
    globals()["ROOT"] = tmp_path
    try:
        found = violations(sample)
    finally:
        globals()["ROOT"] = original
    assert [line.split(":")[1].split()[0] for line in found] == ["2", "3", "4", "5", "6"]
