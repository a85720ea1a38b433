"""``platform`` and ``billing`` do not import each other in a circle (DESIGN.md section 2: billing owns
prices and the wallet; executions call it, it never calls executions).

Walks every import of every module under platform/ and billing/ (top-level and inside functions, with
``ast``), builds the module graph and fails on any cycle (strongly connected component) that holds both a
platform and a billing module. A self-check runs the same checker on a small sample with such a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.pure  # source only: no database, no Redis
PACKAGE = "agentledger"
PACKAGES = ("platform", "billing")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def modules(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    return {module_name(p, root): p for pkg in packages for p in (root / pkg).rglob("*.py")}


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The known modules ``name`` imports anywhere in its body (``from a import b`` counts ``a.b`` when
    that is a module, else ``a``)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package that holds this module
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in known:  # "agentledger.billing.ledger.reserve" -> the module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    known = modules(root, packages)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def crossing_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    def domain(module: str) -> str:
        return module.split(".")[1]

    return [sorted(c) for c in cycles(edges) if {"platform", "billing"} <= {domain(m) for m in c}]


def test_platform_and_billing_import_each_other_in_no_circle():
    edges = graph(ROOT)
    assert len(edges) > 40 and any(m.startswith("agentledger.billing.") for m in edges)  # the walk covers them
    assert "agentledger.billing.pricing" in edges["agentledger.platform.executions.service"]  # and sees imports
    found = crossing_cycles(edges)
    assert found == [], "platform and billing import each other in a circle:\n" + "\n".join(map(str, found))


def test_the_checker_finds_a_circle_through_a_function_level_import(tmp_path):
    for package, files in {
        "platform": {"__init__.py": "", "service.py": "from agentledger.billing import ledger\n",
                     "audit.py": "import os\n", "alone.py": "from . import audit\n"},
        "billing": {"__init__.py": "", "ledger.py": "from agentledger.platform import audit\n"
                                                    "def charge():\n"
                                                    "    from agentledger.platform.service import helper\n",
                    "pricing.py": "from .ledger import charge\n"},
    }.items():
        (tmp_path / package).mkdir()
        for name, text in files.items():
            (tmp_path / package / name).write_text(text)
    edges = graph(tmp_path)
    assert edges["agentledger.billing.pricing"] == {"agentledger.billing.ledger"}  # relative import resolved
    assert edges["agentledger.platform.alone"] == {"agentledger.platform", "agentledger.platform.audit"}
    assert crossing_cycles(edges) == [["agentledger.billing.ledger", "agentledger.platform.service"]]
    (tmp_path / "billing" / "ledger.py").write_text("from agentledger.platform import audit\n")
    assert crossing_cycles(graph(tmp_path)) == []
