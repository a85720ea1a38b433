"""Web handlers call services only (DESIGN.md section 2: web -> services -> repositories -> tables).

Walks every module under web/api and web/pages, and web/responses.py (the response helpers both use),
with ``ast`` (imports at the top and inside functions, relative ones resolved) and fails when:

- a page module imports an API module (what both need lives in ``web/responses.py``);
- a handler module imports a repository module (``repository``, ``*_repository``) or a tables module:
  queries belong to the domain, behind its service;
- a handler module imports ``platform.database`` for anything but ``atomic``. The web request owns the
  transaction (DESIGN: "the web request or the actor owns the transaction"), so a handler opens the unit
  of work with ``async with atomic()``; ``fetch``/``records`` would be a query in the handler.

EXEMPT names the one import allowed, with its reason. A self-check runs the checker on a small sample tree.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure  # reads files only

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "agentledger"
ALLOWED_FROM_DATABASE = {"atomic"}
EXEMPT = {
    # The readiness probe asks the database itself whether it answers: no domain's data, no rule to own.
    ("agentledger.web.api.health", "agentledger.platform.database.fetch"),
}
def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def handler_modules(root: Path) -> dict[str, Path]:
    found = {module_name(p, root): p for folder in ("web/api", "web/pages") for p in (root / folder).rglob("*.py")}
    shared = root / "web" / "responses.py"
    if shared.exists():
        found[module_name(shared, root)] = shared
    return found


def is_module(name: str, root: Path) -> bool:
    parts = name.split(".")
    if parts[0] != PACKAGE or len(parts) < 2:
        return False
    base = root.joinpath(*parts[1:])
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def imported(name: str, path: Path, root: Path) -> list[tuple[int, str]]:
    """Every (line, dotted name) the module imports: ``from a import b`` gives ``a.b`` (a module or a name
    in ``a``); ``import a.b`` gives ``a.b``."""
    is_package = path.name == "__init__.py"
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package that holds this module
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def broken_rules(name: str, path: Path, root: Path) -> list[str]:
    where = f"{path.relative_to(root)}"
    found = []
    for line, target in imported(name, path, root):
        if not target.startswith(f"{PACKAGE}.") or (name, target) in EXEMPT:
            continue
        module = target if is_module(target, root) else target.rpartition(".")[0]
        last = module.rsplit(".", 1)[-1]
        if name.startswith(f"{PACKAGE}.web.pages.") and module.startswith(f"{PACKAGE}.web.api"):
            found.append(f"{where}:{line} a page imports the API module {module}")
        elif last == "repository" or last.endswith("_repository"):
            found.append(f"{where}:{line} imports the repository {module}: call the domain's service")
        elif last == "tables":
            found.append(f"{where}:{line} imports the tables {module}: call the domain's service")
        elif module == f"{PACKAGE}.platform.database" and (
                target == module or target.rpartition(".")[2] not in ALLOWED_FROM_DATABASE):
            found.append(f"{where}:{line} imports {target}: only atomic (the request's unit of work)")
    return found


def all_broken(root: Path) -> dict[str, list[str]]:
    return {name: rules for name, path in sorted(handler_modules(root).items())
            if (rules := broken_rules(name, path, root))}


def test_web_handlers_call_services_only():
    modules = handler_modules(ROOT)
    assert "agentledger.web.api.billing" in modules and "agentledger.web.pages.sharing" in modules  # the walk sees them
    broken = all_broken(ROOT)
    assert broken == {}, "web handlers reach past the services:\n" + "\n".join(r for rs in broken.values() for r in rs)


def test_the_checker_finds_each_kind_of_reach(tmp_path):
    files = {
        "platform/__init__.py": "", "platform/database.py": "", "platform/tables.py": "",
        "platform/things/__init__.py": "", "platform/things/repository.py": "",
        "platform/things/lifecycle_repository.py": "", "platform/things/service.py": "",
        "web/__init__.py": "", "web/responses.py": "from agentledger.platform.things import service\n",
        "web/api/__init__.py": "", "web/api/good.py": "from agentledger.platform.database import atomic\n"
                                                       "from agentledger.platform.things import service\n",
        "web/api/bad.py": "from agentledger.platform.database import atomic, fetch\n"
                          "import agentledger.platform.database\n"
                          "def f():\n    from agentledger.platform.things.lifecycle_repository import claim\n",
        "web/pages/__init__.py": "",
        "web/pages/reach.py": "from ..api import good\nfrom agentledger.platform import tables\n"
                              "from agentledger.platform.things import repository as things\n"
                              "from agentledger.web.responses import helper\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    broken = all_broken(tmp_path)
    assert set(broken) == {"agentledger.web.api.bad", "agentledger.web.pages.reach"}
    assert [r.split(" ", 1)[1] for r in broken["agentledger.web.api.bad"]] == [
        "imports agentledger.platform.database.fetch: only atomic (the request's unit of work)",
        "imports agentledger.platform.database: only atomic (the request's unit of work)",
        "imports the repository agentledger.platform.things.lifecycle_repository: call the domain's service",
    ]
    assert [r.split(" ", 1)[1] for r in broken["agentledger.web.pages.reach"]] == [
        "a page imports the API module agentledger.web.api.good",
        "imports the tables agentledger.platform.tables: call the domain's service",
        "imports the repository agentledger.platform.things.repository: call the domain's service",
    ]
