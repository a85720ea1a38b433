"""Start the real agentledger processes (web, worker, scheduler) for tests, and stop them after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agentledger.platform.embedded import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "agentledger.platform.cli", *args]


@contextmanager
def running(args: list[str], env: dict[str, str] | None = None, **popen) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(args, env={**os.environ, **(env or {})}, cwd=ROOT, **popen)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def web_server(env: dict[str, str] | None = None) -> Iterator[str]:
    """A real uvicorn serving the app; answers its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(cli("web", "--port", str(port)), {"BASE_URL": base, **(env or {})}):
        wait_for_port(port, timeout=30)
        yield base


@contextmanager
def worker(env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    with running(cli("worker", "--processes", "1", "--threads", "2"), env) as process:
        yield process


def start_worker(threads: int = 1, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A worker in a session of its own, so that ``kill_9`` takes the dramatiq parent and its children."""
    return subprocess.Popen(cli("worker", "--processes", "1", "--threads", str(threads)), cwd=ROOT,
                            env={**os.environ, **(env or {})}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_9(process: subprocess.Popen) -> None:
    """The worker dies with no goodbyes: nothing acknowledged, nothing handed back to Redis."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


class Output:
    """Collects a process's stdout lines on a thread so the test can wait for a line."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line.strip())

    def wait_for(self, prefix: str, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(line.startswith(prefix) for line in self.lines):
                return True
            time.sleep(0.1)
        return False
