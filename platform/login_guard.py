"""Password sign-in throttle: after N wrong passwords in the window, the account answers 429 with the wait.

Counted per account (the normalized email), in Redis, so every web replica shares it. Unknown emails are
counted the same way, so the answer does not reveal which accounts exist.
"""

from __future__ import annotations

import math

from agentledger.platform.config import get_settings
from agentledger.platform.errors import TooManyRequests
from agentledger.platform.redis import get_redis


def _key(email: str) -> str:
    return f"login-failures:{email.strip().lower()}"


async def check_allowed(email: str) -> None:
    settings = get_settings()
    redis = get_redis()
    failures = int(await redis.get(_key(email)) or 0)
    if failures >= settings.login_max_failures:
        wait = max(1, await redis.ttl(_key(email)))
        minutes = math.ceil(wait / 60)
        raise TooManyRequests(
            f"too many wrong passwords for this account; try again in {minutes} minute{'s' if minutes != 1 else ''}",
            retry_after=wait,
        )


async def record_failure(email: str) -> None:
    settings = get_settings()
    async with get_redis().pipeline(transaction=True) as pipe:  # the window starts at the first failure
        pipe.set(_key(email), 0, ex=settings.login_lockout_seconds, nx=True)
        pipe.incr(_key(email))
        await pipe.execute()


async def clear(email: str) -> None:
    await get_redis().delete(_key(email))
