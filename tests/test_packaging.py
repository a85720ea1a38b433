"""The package: agentledger.* from the fixed top-level folders, a complete wheel, no shadowed stdlib."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure  # no database, no Redis of the tests: the clean fixture empties nothing

ROOT = Path(__file__).resolve().parents[1]
TOP = {"platform": "platform", "agents": "agents", "billing": "billing", "notifications": "notifications",
       "web": "web", "migrations": "migrations"}


def test_top_level_folders_are_not_packages_of_their_own():
    for folder in TOP:
        assert not (ROOT / folder / "__init__.py").exists(), f"{folder}/__init__.py would shadow or confuse imports"


def test_stdlib_platform_still_works_from_the_repo_root():
    result = subprocess.run([sys.executable, "-c", "import platform, uuid; print(platform.system(), uuid.uuid4())"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "Linux"


def test_wheel_contains_every_module_and_template_and_the_build_warns_of_nothing(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v",
                            "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True, text=True)
    said = built.stdout + built.stderr
    # setuptools took the template and static folders for undeclared packages ("Package would be ignored")
    assert "would be ignored" not in said and "BuildBackendWarning" not in said, said[-3000:]
    wheel = next(tmp_path.glob("agentledger-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for folder, package_dir in TOP.items():
        for path in (ROOT / package_dir).rglob("*"):
            shipped = path.suffix == ".py" or {"templates", "static"} & set(path.parts)
            if path.is_file() and shipped and "__pycache__" not in path.parts:
                expected.add(f"agentledger/{folder}/{path.relative_to(ROOT / package_dir)}")
    missing = sorted(expected - names)
    assert missing == [], f"not in the wheel: {missing}"
    assert "agentledger/web/static/htmx.min.js" in names


def test_cli_is_installed_and_lists_its_commands():
    result = subprocess.run([str(Path(sys.executable).parent / "agentledger"), "--help"], capture_output=True,
                            text=True)
    assert result.returncode == 0
    for command in ("migrate", "web", "worker", "scheduler", "create-user", "create-workspace", "add-member",
                    "create-token"):
        assert command in result.stdout
