"""Two schedulers: one leads (holds the advisory lock), the other stands by and takes over."""

from __future__ import annotations

import subprocess
import threading
import time

from tests.support.processes import cli, running


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


def test_second_scheduler_stands_by_until_the_leader_stops():
    env = {"SCHEDULER_STANDBY_POLL": "0.3"}
    with running(cli("scheduler"), env, stdout=subprocess.PIPE, text=True) as first:
        first_out = Output(first)
        assert first_out.wait_for("scheduler leader"), first_out.lines
        with running(cli("scheduler"), env, stdout=subprocess.PIPE, text=True) as second:
            second_out = Output(second)
            assert second_out.wait_for("scheduler standby"), second_out.lines
            time.sleep(1.0)
            assert not any(line.startswith("scheduler leader") for line in second_out.lines)
            first.terminate()
            first.wait(15)
            assert second_out.wait_for("scheduler leader", timeout=15), second_out.lines
    assert first.returncode == 0
