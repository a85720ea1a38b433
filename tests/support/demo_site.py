"""Run Northwind Outfitters (the demo shop) as a real subprocess for tests: `agentledger demo-site`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from agentledger.platform.embedded import free_port, wait_for_port
from tests.support.processes import cli, running


@dataclass(frozen=True)
class DemoSite:
    url: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextmanager
def demo_site(token: str = "test-connector-token", state_file: Path | None = None) -> Iterator[DemoSite]:
    port = free_port()
    args = cli("demo-site", "--host", "127.0.0.1", "--port", str(port), "--token", token)
    if state_file is not None:
        args += ["--state-file", str(state_file)]
    with running(args, stdout=subprocess.DEVNULL):
        wait_for_port(port, timeout=30)
        yield DemoSite(f"http://127.0.0.1:{port}", token)


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    """One demo shop per test module."""
    with demo_site() as running:
        yield running


@pytest.fixture
def clean_site(site: DemoSite) -> DemoSite:
    """The shop as it ships: earlier tests' fixes, hits and faults undone."""
    httpx.post(f"{site.url}/_demo/reset").raise_for_status()
    return site
