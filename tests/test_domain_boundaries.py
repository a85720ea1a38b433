"""Each domain says what it owns and what it may import, and the imports keep its word.

A domain package's ``__init__.py`` docstring (or, for the top-level folders, which must have no
``__init__.py`` (DESIGN.md section 1), the folder's README.md) has an ``Owns:`` line and a ``May import:``
line (``platform`` there means the kernel modules directly in platform/, not its sub-domains, which are
named one by one). This test reads the ``May import:`` lines and walks every module's imports (function-level ones
too): a module may import its own domain and the domains its line names, nothing else. Entry points (the
``Entry points:`` line of platform/README.md) wire everything together and may import anything.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure

ROOT = Path(__file__).resolve().parents[1]
TOP = ("platform", "agents", "billing", "notifications", "web")


def units() -> dict[str, Path]:
    """Each domain's name (``platform``, ``platform.executions``, ``web.api``, ...) and the file that declares it."""
    found = {}
    for top in TOP:
        found[top] = ROOT / top / "README.md"
        for init in sorted((ROOT / top).glob("*/__init__.py")):
            found[f"{top}.{init.parent.name}"] = init
    return found


def declaration(path: Path) -> str:
    text = path.read_text()
    if path.suffix == ".py":
        return ast.get_docstring(ast.parse(text)) or ""
    return text


def line(text: str, label: str) -> list[str]:
    match = re.search(rf"^{label}:\s*(.*)$", text, re.MULTILINE)
    if match is None:
        return []
    names = match.group(1).strip().rstrip(".")
    return [] if names in ("", "nothing", "nothing else") else [n.strip() for n in names.split(",")]


def unit_of(module: str, known: set[str]) -> str:
    """``agentledger.platform.executions.service`` -> ``platform.executions``; kernel modules -> ``platform``."""
    parts = module.split(".")[1:]
    if len(parts) >= 2 and f"{parts[0]}.{parts[1]}" in known:
        return f"{parts[0]}.{parts[1]}"
    return parts[0]


def imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("agentledger."):
            for alias in node.names:
                out.append((node.lineno, f"{node.module}.{alias.name}"))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("agentledger.")]
    return out


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return "agentledger." + ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def violations() -> list[str]:
    declared = units()
    known = set(declared)
    allowed = {name: set(line(declaration(path), "May import")) | {name} for name, path in declared.items()}
    entry = {f"agentledger.platform.{n}" for n in line(declaration(declared["platform"]), "Entry points")}
    problems = []
    for top in TOP:
        for path in sorted((ROOT / top).rglob("*.py")):
            module = module_name(path)
            if module in entry:
                continue
            own = unit_of(module, known)
            for lineno, target in imports(path):
                other = unit_of(target, known)
                if other not in allowed[own]:
                    problems.append(f"{path.relative_to(ROOT)}:{lineno} ({own}) imports {target} ({other})")
    return problems


def test_every_domain_says_what_it_owns_and_may_import():
    missing = []
    for name, path in units().items():
        text = declaration(path) if path.exists() else ""
        if not re.search(r"^Owns:\s*\S", text, re.MULTILINE) or not re.search(r"^May import:", text, re.MULTILINE):
            missing.append(f"{name} ({path.relative_to(ROOT)})")
    assert missing == [], "add 'Owns:' and 'May import:' lines to:\n" + "\n".join(missing)


def test_imports_keep_to_what_each_domain_declares():
    problems = violations()
    assert problems == [], "import only what the domain's 'May import:' line names:\n" + "\n".join(problems)
