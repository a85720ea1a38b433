"""Liveness (the process answers) and readiness (PostgreSQL and Redis answer) for load balancers."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Response, get
from litestar.openapi import ResponseSpec

from agentledger.platform.database import fetch
from agentledger.platform.redis import get_redis


@get("/healthz", tags=["ops"], summary="The process is up", include_in_schema=True)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check(name: str, probe) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe(), timeout=2)
        return name, "ok"
    except Exception as error:  # noqa: BLE001 - readiness reports any failure as its reason
        return name, f"error: {type(error).__name__}"


@get("/readyz", tags=["ops"], summary="PostgreSQL and Redis are reachable", responses={
    503: ResponseSpec(dict[str, Any], description="One of them is not: checks names which and why")})
async def readyz() -> Response[dict[str, object]]:
    checks = dict(await asyncio.gather(
        _check("database", lambda: fetch("SELECT 1")),
        _check("redis", lambda: get_redis().ping()),
    ))
    ready = all(v == "ok" for v in checks.values())
    return Response({"status": "ok" if ready else "unavailable", "checks": checks},
                    status_code=200 if ready else 503)
