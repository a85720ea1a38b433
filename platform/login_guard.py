"""Sign-in throttle: after N attempts without success in the window, the account answers 429 with the wait.

Counted per account (its normalized email), in Redis, so every web replica shares it. Unknown emails are
counted the same way, so the answer does not reveal which accounts exist. Shared links have a throttle
of their own (``sharing.lockout``): per link and address, since strangers may hold a link.
"""

from __future__ import annotations

import math

from agentledger.platform.config import get_settings
from agentledger.platform.errors import TooManyRequests
from agentledger.platform.redis import get_redis


def _key(subject: str) -> str:
    return f"login-failures:{subject.strip().lower()}"


async def reserve_attempt(subject: str) -> None:
    """Count this attempt before the password is checked, so parallel requests cannot outrun the limit;
    429 with the wait once the account has used up its attempts in the window."""
    settings = get_settings()
    redis = get_redis()
    async with redis.pipeline(transaction=True) as pipe:  # the window starts at the first attempt
        key = _key(subject)
        pipe.set(key, 0, ex=settings.login_lockout_seconds, nx=True)
        pipe.incr(key)
        pipe.ttl(key)
        _, attempts, ttl = await pipe.execute()
    if attempts > settings.login_max_failures:
        wait = max(1, ttl)
        minutes = math.ceil(wait / 60)
        raise TooManyRequests(
            f"too many wrong passwords for this account; try again in {minutes} minute{'s' if minutes != 1 else ''}",
            retry_after=wait,
        )


async def clear(subject: str) -> None:
    """A right password forgets the earlier attempts."""
    await get_redis().delete(_key(subject))
