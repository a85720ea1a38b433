"""`noop` runs end to end (reserve, enqueue, claim, run, settle) per second on one worker process, against a
bare Dramatiq no-op actor on the same Redis, in the same run. Prints the ratio (goal: 25% or more) and the
enqueue→start latency p50/p99 of runs started one at a time (goal: p50 at most 5 ms).

Run with `./run bench dispatch`. BENCH_RUNS (2000) sets the jobs per side, BENCH_THREADS (8) the worker
threads of both workers.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNS = int(os.environ.get("BENCH_RUNS", "2000"))
LATENCY_RUNS = 200
THREADS = os.environ.get("BENCH_THREADS", "8")


def worker(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dramatiq", *args, "--processes", "1", "--threads", THREADS],
                            cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(30)


def bare_rate() -> float:
    sys.path.insert(0, str(HERE))
    import _bare

    _bare.counter.delete("bench:bare:done")
    process = worker(["_bare"], HERE)
    try:
        _bare.bare_noop.send(0)  # warm-up: wait for the worker
        while int(_bare.counter.get("bench:bare:done") or 0) < 1:
            time.sleep(0.01)
        started = time.monotonic()
        for n in range(RUNS):
            _bare.bare_noop.send(n)
        while int(_bare.counter.get("bench:bare:done") or 0) < RUNS + 1:
            time.sleep(0.005)
        return RUNS / (time.monotonic() - started)
    finally:
        stop(process)


async def ours() -> tuple[float, float, list[float]]:
    from agentledger.agents import launch
    from agentledger.billing import ledger
    from agentledger.platform import accounts, workspaces
    from agentledger.platform.database import atomic, fetch, start_pool
    from agentledger.platform.migrate import migrate
    from agentledger.platform.scoping import resolve_scope

    await migrate()
    await start_pool(max_size=16)
    async with atomic():
        user = await accounts.create_user(f"d-{uuid.uuid4().hex[:8]}@example.com", "Bench", "bench password 123")
        info = await workspaces.create_workspace(f"d-{uuid.uuid4().hex[:8]}", "Dispatch bench", user.id)
        await ledger.grant(info.id, 10**9, actor_id=None, memo="bench")
    scope = await resolve_scope(info.slug, user.id)

    async def start() -> uuid.UUID:
        async with atomic():
            return (await launch.start(scope, launch.Request("noop", {}, 1)))["id"]

    async def wait_all(ids: list[uuid.UUID]) -> None:
        while True:
            left = await fetch("SELECT count(*) AS n FROM executions WHERE id = ANY({}) AND finished_at IS NULL", ids)
            if left[0]["n"] == 0:
                return
            await asyncio.sleep(0.01)

    backlog = []  # first: the worker alone, draining runs queued before it starts
    for batch in range(0, RUNS, 50):
        backlog += await asyncio.gather(*(start() for _ in range(min(50, RUNS - batch))))
    process = worker(["agentledger.platform.actors"], ROOT)
    try:
        while not (await fetch("SELECT 1 FROM executions WHERE id = ANY({}) AND started_at IS NOT NULL LIMIT 1",
                               backlog)):
            await asyncio.sleep(0.005)
        drain_started = time.monotonic()
        await wait_all(backlog)
        drain = RUNS / (time.monotonic() - drain_started)
        await wait_all([await start()])  # warm-up
        started = time.monotonic()
        ids = []
        for batch in range(0, RUNS, 50):  # 50 concurrent starts at a time
            ids += await asyncio.gather(*(start() for _ in range(min(50, RUNS - batch))))
        await wait_all(ids)
        rate = RUNS / (time.monotonic() - started)
        latencies = []
        for _ in range(LATENCY_RUNS):  # one at a time: the latency of an idle system
            run_id = await start()
            await wait_all([run_id])
            row = await fetch("SELECT extract(epoch FROM started_at - queued_at) * 1000 AS ms FROM executions "
                              "WHERE id = {}", run_id)
            latencies.append(float(row[0]["ms"]))
        bad = await fetch("SELECT count(*) AS n FROM executions WHERE id = ANY({}) AND status <> 'completed'", ids)
        assert bad[0]["n"] == 0, "some runs did not complete"
        return rate, drain, latencies
    finally:
        stop(process)


def main() -> None:
    bare = bare_rate()
    rate, drain, latencies = asyncio.run(ours())
    cuts = statistics.quantiles(latencies, n=100)
    print(f"one worker process, {THREADS} threads; {RUNS} jobs each")
    print(f"bare dramatiq no-op actor     {bare:8.0f} jobs/s")
    print(f"agentledger noop runs         {rate:8.0f} runs/s  (reserve, enqueue, claim, run, settle)")
    print(f"ratio runs/bare               {rate / bare:8.1%}  (goal >= 25%)")
    print(f"worker alone, queued backlog  {drain:8.0f} runs/s  ({drain / bare:.1%} of bare; claim, run, settle)")
    print(f"enqueue->start, idle system   p50 {cuts[49]:.1f} ms, p99 {cuts[98]:.1f} ms  (goal p50 <= 5 ms; "
          f"{LATENCY_RUNS} runs started one at a time)")


if __name__ == "__main__":
    main()
