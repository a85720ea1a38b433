"""Authenticated `GET /api/v1/me` against a Litestar hello-world, both on one uvicorn worker.

Run with `./run bench` (or `./run bench web`). Prints requests per second for each and the ratio
(goal: agentledger at 40% or more of hello-world).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import requests_per_second, tool  # noqa: E402

from agentledger.platform.embedded import free_port, wait_for_port  # noqa: E402

SECONDS = 5
ROOT = Path(__file__).resolve().parents[1]


async def prepare() -> str:
    from agentledger.platform import accounts, tokens, workspaces
    from agentledger.platform.database import atomic
    from agentledger.platform.migrate import migrate
    from agentledger.platform.scoping import resolve_scope

    await migrate()
    async with atomic():
        user = await accounts.create_user("bench@example.com", "Bench", "bench password 123")
        await workspaces.create_workspace("bench", "Bench", user.id)
        _, plain = await tokens.create_token(await resolve_scope("bench", user.id), "bench")
    return plain


def serve(args: list[str], port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    wait_for_port(port, timeout=30)
    return process


def uvicorn(target: str, port: int, factory: bool = False) -> list[str]:
    return [sys.executable, "-m", "uvicorn", target, *(["--factory"] if factory else []), "--port", str(port),
            "--no-access-log", "--log-level", "warning", "--workers", "1"]


ROUNDS = 3


def main() -> None:
    """Both servers run at once; measurements alternate (hello, me, hello, me, …) so machine noise hits
    both alike, and the medians are compared."""
    token = asyncio.run(prepare())
    me_port, cold_port, hello_port = free_port(), free_port(), free_port()
    servers = [serve(uvicorn("agentledger.web.app:create_app", me_port, factory=True), me_port),
               serve(uvicorn("agentledger.web.app:create_app", cold_port, factory=True), cold_port,
                     {"GRANT_CACHE_SECONDS": "0"}),
               serve([*uvicorn("_hello:app", hello_port), "--app-dir", "bench"], hello_port)]
    me_url, cold_url = f"http://127.0.0.1:{me_port}/api/v1/me", f"http://127.0.0.1:{cold_port}/api/v1/me"
    hello_url = f"http://127.0.0.1:{hello_port}/hello"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        for url, headers in ((me_url, auth), (cold_url, auth), (hello_url, {})):
            requests_per_second(url, headers, seconds=2)  # warm-up
        me, cold, hello = [], [], []
        for _ in range(ROUNDS):
            hello.append(requests_per_second(hello_url, {}, seconds=SECONDS))
            me.append(requests_per_second(me_url, auth, seconds=SECONDS))
            cold.append(requests_per_second(cold_url, auth, seconds=SECONDS))
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
    me_rps, cold_rps, hello_rps = statistics.median(me), statistics.median(cold), statistics.median(hello)
    print(f"load tool: {tool()}, 32 connections, {ROUNDS} alternating rounds of {SECONDS}s, one uvicorn worker each")
    print(f"hello-world GET /hello        {hello_rps:10.0f} req/s  (median of {', '.join(f'{x:.0f}' for x in hello)})")
    print(f"agentledger GET /api/v1/me    {me_rps:10.0f} req/s  (median of {', '.join(f'{x:.0f}' for x in me)}; "
          "bearer token, warm grant cache)")
    print(f"  same, GRANT_CACHE_SECONDS=0 {cold_rps:10.0f} req/s  (median of {', '.join(f'{x:.0f}' for x in cold)}; "
          "one indexed query per call)")
    print(f"ratio me/hello                {me_rps / hello_rps:10.1%}  (goal >= 40%)")
    print(f"ratio me/hello, cache off     {cold_rps / hello_rps:10.1%}")


if __name__ == "__main__":
    main()
