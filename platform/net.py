"""Outbound HTTP to addresses people type in (agents' URLs, connectors' sites), guarded against
server-side request forgery.

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


async def check_reachable(url: str) -> None:
    """Refuse (BlockedAddress) a URL whose host resolves into a network we may not reach."""
    await _check(httpx.Request("GET", url))
