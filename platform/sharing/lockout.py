"""Wrong passwords on a shared link: locked per link *and source address*, with a higher cap per link.

A link's URL travels by email and chat, so strangers may hold it. Counting wrong passwords per link
alone (as sign-in counts per account) would let any of them lock the real recipient out with five
tries. So:

- 5 wrong passwords in 15 minutes (``login_max_failures`` / ``login_lockout_seconds``, as at sign-in)
  lock *that address* out of *that link*; everyone else may still try.
- 30 wrong passwords in an hour from all addresses together lock the link for everyone (guessing from
  many addresses stays bounded) until the hour has passed or whoever manages the link unlocks it.

Both windows slide: the lock lifts when the oldest counted failure ages out. Every failure of a link is
one member of a Redis sorted set (``<source>:<nonce>``, scored by its time), so every web replica shares
it and the owner's Share page can read it. The set never holds more than the link cap (a refused
attempt is not recorded). One Lua script judges an attempt and records it in the same step, so parallel
requests cannot outrun the limits; the Share page reads its figures through the same script, so the rule
is written once. Addresses are stored as a keyed hash, never in the clear; IPv6 counts per /64, since
one host commonly holds a whole /64.

A right password forgets that address's earlier failures (they were most likely the recipient's typos).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from agentledger.platform.config import get_settings
from agentledger.platform.errors import TooManyRequests
from agentledger.platform.redis import get_redis

LINK_MAX_FAILURES = 30
LINK_WINDOW_SECONDS = 3600

# KEYS[1]: the link's failures. ARGV: now, source, member ('' = only read), source max, source window,
# link max, link window, now - link window. Answers: verdict (ok|source|link|peek), the link's wait,
# the source's wait, failures in the link window, the last one's time ('' if none), sources locked out.
_JUDGE = """
local key, now, source, member = KEYS[1], tonumber(ARGV[1]), ARGV[2], ARGV[3]
local source_max, source_window = tonumber(ARGV[4]), tonumber(ARGV[5])
local link_max, link_window = tonumber(ARGV[6]), tonumber(ARGV[7])
local entries = redis.call('ZRANGEBYSCORE', key, '(' .. ARGV[8], '+inf', 'WITHSCORES')
local total = #entries / 2
local link_wait, source_wait, locked_sources = 0, 0, 0
if total >= link_max then link_wait = tonumber(entries[(total - link_max) * 2 + 2]) + link_window - now end
local recent = {}
for i = 1, #entries, 2 do
  local score = tonumber(entries[i + 1])
  if score > now - source_window then
    local who = string.match(entries[i], '^([^:]*):')
    recent[who] = recent[who] or {}
    table.insert(recent[who], score)
  end
end
for who, scores in pairs(recent) do
  if #scores >= source_max then
    locked_sources = locked_sources + 1
    if who == source then source_wait = scores[#scores - source_max + 1] + source_window - now end
  end
end
local verdict = 'peek'
if member ~= '' then
  if link_wait > 0 then verdict = 'link'
  elseif source_wait > 0 then verdict = 'source'
  else
    redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[8])
    redis.call('ZADD', key, ARGV[1], member)
    redis.call('EXPIRE', key, link_window)
    verdict = 'ok'
  end
end
return {verdict, tostring(link_wait), tostring(source_wait), tostring(total), entries[#entries] or '',
        tostring(locked_sources)}
"""

# KEYS[1]: the link's failures; ARGV[1]: a source. Forgets that source's failures.
_FORGIVE = """
local gone = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(member, 1, #ARGV[1] + 1) == ARGV[1] .. ':' then
    gone = gone + redis.call('ZREM', KEYS[1], member)
  end
end
return gone
"""


@dataclass(frozen=True, slots=True)
class Standing:
    """A link's wrong passwords in the last hour, as its Share page and API show them."""

    failures: int
    last_failed_at: datetime | None
    locked_until: datetime | None  # locked for everyone until then
    sources_locked: int  # addresses locked out of the link right now
    window_seconds: int = LINK_WINDOW_SECONDS

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


def _key(link_id: UUID) -> str:
    """Apart from sign-in's ``login-failures:``: no email typed at sign-in can touch a link."""
    return f"share-link-failures:{link_id}"


def source_of(host: str | None) -> str:
    """The stored form of a client address: IPv4 (also when mapped into IPv6) as is, IPv6 as its /64,
    anything else (no address) as itself; then a keyed hash, so Redis never holds visitors' addresses."""
    text = (host or "unknown").strip().lower()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        if isinstance(address, ipaddress.IPv6Address):
            mapped = address.ipv4_mapped
            text = str(mapped) if mapped else str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"share-link-source:{text}".encode(), hashlib.sha256).hexdigest()[:24]


async def _judge(link_id: UUID, source: str, member: str) -> tuple[str, float, float, Standing]:
    settings = get_settings()
    source_window = min(settings.login_lockout_seconds, LINK_WINDOW_SECONDS)
    now = time.time()
    verdict, link_wait, source_wait, total, last, sources = await get_redis().eval(
        _JUDGE, 1, _key(link_id), repr(now), source, member, settings.login_max_failures, source_window,
        LINK_MAX_FAILURES, LINK_WINDOW_SECONDS, repr(now - LINK_WINDOW_SECONDS))
    link_wait = float(link_wait)
    standing = Standing(
        failures=int(total),
        last_failed_at=datetime.fromtimestamp(float(last), UTC) if last else None,
        locked_until=datetime.fromtimestamp(now + link_wait, UTC) if link_wait > 0 else None,
        sources_locked=int(sources))
    return verdict.decode(), link_wait, float(source_wait), standing


async def reserve(link_id: UUID, source: str) -> None:
    """Count this attempt as a failure before the password is checked (parallel requests cannot outrun
    the limits), or 429 with the wait while the link or this address is locked out."""
    verdict, link_wait, source_wait, _ = await _judge(link_id, source, f"{source}:{secrets.token_hex(8)}")
    if verdict == "link":
        raise TooManyRequests(f"this link is locked because of too many wrong password attempts; try again in "
                              f"{_minutes(link_wait)}, or ask whoever sent it to unlock it",
                              retry_after=math.ceil(link_wait))
    if verdict == "source":
        raise TooManyRequests(f"too many wrong passwords for this link from your address; try again in "
                              f"{_minutes(source_wait)}", retry_after=math.ceil(source_wait))


async def forgive(link_id: UUID, source: str) -> None:
    """A right password: this address's failures (this attempt's among them) no longer count."""
    await get_redis().eval(_FORGIVE, 1, _key(link_id), source)


async def standing(link_ids: list[UUID]) -> dict[UUID, Standing]:
    """The figures for each link (read only)."""
    return {link_id: (await _judge(link_id, "", ""))[3] for link_id in link_ids}


async def clear(link_id: UUID) -> None:
    """The owner's Unlock: every address may try again, and the link-wide count starts over."""
    await get_redis().delete(_key(link_id))


def _minutes(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
