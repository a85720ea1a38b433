"""Authenticated `GET /api/v1/me` against a Litestar hello-world, both on one uvicorn worker.

Run with `./run bench` (or `./run bench web`). Prints requests per second for each and the ratio
(goal: agentledger at 40% or more of hello-world).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import requests_per_second, tool  # noqa: E402

from agentledger.platform.embedded import free_port, wait_for_port  # noqa: E402

SECONDS = 10
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


def serve(args: list[str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL)
    wait_for_port(port, timeout=30)
    return process


def uvicorn(target: str, port: int, factory: bool = False) -> list[str]:
    return [sys.executable, "-m", "uvicorn", target, *(["--factory"] if factory else []), "--port", str(port),
            "--no-access-log", "--log-level", "warning", "--workers", "1"]


def measure(args: list[str], port: int, path: str, headers: dict[str, str]) -> float:
    process = serve(args, port)
    try:
        url = f"http://127.0.0.1:{port}{path}"
        requests_per_second(url, headers, seconds=2)  # warm-up
        time.sleep(0.5)
        return requests_per_second(url, headers, seconds=SECONDS)
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    token = asyncio.run(prepare())
    me = measure(uvicorn("agentledger.web.app:create_app", port := free_port(), factory=True), port,
                 "/api/v1/me", {"Authorization": f"Bearer {token}"})
    hello = measure([*uvicorn("_hello:app", port := free_port()), "--app-dir", "bench"], port, "/hello", {})
    ratio = me / hello
    print(f"load tool: {tool()}, 32 connections, {SECONDS}s each, one uvicorn worker")
    print(f"hello-world GET /hello        {hello:10.0f} req/s")
    print(f"agentledger GET /api/v1/me    {me:10.0f} req/s  (bearer token, 2 queries)")
    print(f"ratio me/hello                {ratio:10.1%}  (goal >= 40%)")


if __name__ == "__main__":
    main()
