"""Outbound HTTP for agents, guarded against server-side request forgery.

Agents fetch URLs that workspace members type in, from inside the deployment's network. Every request
(redirects included) resolves its host first and is refused unless every address is globally routable
(after unwrapping IPv4-mapped, 6to4, Teredo and NAT64 forms). AGENT_ALLOW_PRIVATE_NETWORKS also admits
loopback and private ranges (the demo and the tests fetch from 127.0.0.1); link-local addresses (cloud
metadata lives there) stay refused even then.

Known gap: the address is checked at resolution, and the connection resolves again, so a DNS server
that answers differently the second time (rebinding) is not stopped here; a network egress policy is
the complete answer in production.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import httpx

from agentledger.platform.config import get_settings


class BlockedAddress(httpx.RequestError):
    """The URL points into a network agents may not reach."""


NAT64 = ipaddress.ip_network("64:ff9b::/96")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded(address: Address) -> Address:
    """The IPv4 address hidden in an IPv6 one (mapped, 6to4, Teredo, NAT64), else the address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address.sixtofour:
            return address.sixtofour
        if address.teredo:
            return address.teredo[1]
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _refused(address: Address, allow_private: bool) -> bool:
    address = _embedded(address)
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return True
    if address.is_global:
        return False
    return not (allow_private and (address.is_loopback or address.is_private))


async def _check(request: httpx.Request) -> None:
    host = request.url.host
    allow_private = get_settings().agent_allow_private_networks
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, request.url.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise httpx.ConnectError(f"cannot resolve {host}: {error.strerror}", request=request) from None
    except UnicodeError:
        raise httpx.ConnectError(f"'{host}' is not a valid host name", request=request) from None
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if _refused(address, allow_private):
            raise BlockedAddress(f"{host} resolves to {address}, a network agents may not reach", request=request)


def client(**options: Any) -> httpx.AsyncClient:
    """An httpx client whose every request, redirects included, passes the address check."""
    hooks = options.pop("event_hooks", {})
    hooks = {**hooks, "request": [*hooks.get("request", []), _check]}
    return httpx.AsyncClient(event_hooks=hooks, trust_env=False, **options)


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
