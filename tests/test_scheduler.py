"""Two schedulers: one leads (holds the advisory lock), the other stands by and takes over."""

from __future__ import annotations

import subprocess
import time

from tests.support.processes import Output, cli, running


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


def test_a_job_that_fails_is_logged_and_runs_again_while_the_scheduler_goes_on():
    """Redis unreachable: every reaper pass fails. Each failure is one log line, the next pass still comes,
    and the scheduler keeps leading (the process does not die)."""
    from agentledger.platform.embedded import free_port

    env = {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "REAP_INTERVAL_SECONDS": "0.3"}
    with running(cli("scheduler"), env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        out = Output(process)
        assert out.wait_for("scheduler leader"), out.lines
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(failures(out.lines)) < 3:
            time.sleep(0.1)
        assert len(failures(out.lines)) >= 3, out.lines
        assert process.poll() is None
    assert process.returncode == 0


def failures(lines: list[str]) -> list[str]:
    return [line for line in lines if "ERROR agentledger.scheduler: periodic job reap-stale-runs failed" in line]


async def test_a_hung_job_is_given_up_after_its_timeout(monkeypatch, caplog):
    from agentledger.platform import scheduler

    monkeypatch.setattr(scheduler, "JOB_TIMEOUT", 0.2)
    started = time.monotonic()
    await scheduler.run_job(scheduler.Job("hang", "tests.test_scheduler:hanging", None))
    assert time.monotonic() - started < 2
    assert [r.message for r in caplog.records if r.name == "agentledger.scheduler"] == ["periodic job hang failed"]


class _Hanging:
    @staticmethod
    async def run_here() -> None:
        import asyncio

        await asyncio.Event().wait()  # a database that stopped answering


hanging = _Hanging()
