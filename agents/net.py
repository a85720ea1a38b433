"""Outbound HTTP for agents: the guarded client (``platform.net``) and fetching a document with limits."""

from __future__ import annotations

import httpx

from agentledger.platform.net import BlockedAddress, client

__all__ = ["BlockedAddress", "FetchError", "client", "fetch_text"]


class FetchError(Exception):
    """A document could not be fetched as asked; the message says why, for the run's log and items."""


async def fetch_text(url: str, *, max_bytes: int, timeout: float = 20.0, accept: tuple[str, ...] = ()) -> str:
    """GET ``url`` (redirects followed, at most 5) as text. Refuses answers that are not 2xx, whose type is
    not one of ``accept`` (e.g. "json", "csv", "text/plain"; empty: any), or that exceed ``max_bytes``."""
    try:
        async with client(timeout=timeout, follow_redirects=True, max_redirects=5,
                          headers={"user-agent": "agentledger/1"}) as http, http.stream("GET", url) as response:
            if response.status_code >= 400:
                raise FetchError(f"{url} answered HTTP {response.status_code}")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if accept and not any(a in kind for a in accept):
                raise FetchError(f"{url} is {kind or 'of no declared type'}, not {' or '.join(accept)}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError(f"{url} is larger than {max_bytes:,} bytes")
            return body.decode(response.encoding or "utf-8", errors="replace")
    except httpx.TooManyRedirects:
        raise FetchError(f"{url} redirects too many times (a redirect loop?)") from None
    except httpx.TimeoutException:
        raise FetchError(f"{url} did not answer within {timeout:g} s") from None
    except httpx.HTTPError as error:
        raise FetchError(f"{url} could not be fetched: {error}") from None
