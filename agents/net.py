"""Outbound HTTP for agents, guarded against server-side request forgery.

Agents fetch URLs that workspace members type in, from inside the deployment's network. Every request
(redirects included) resolves its host first and is refused when any address is loopback, private,
link-local (cloud metadata lives there), multicast or reserved, unless AGENT_ALLOW_PRIVATE_NETWORKS is
set (the demo and the tests fetch from 127.0.0.1). Link-local stays refused even then.
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


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> bool:
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return True
    if address.is_loopback or address.is_private or address.is_reserved:
        return not allow_private
    return False


async def _check(request: httpx.Request) -> None:
    host = request.url.host
    allow_private = get_settings().agent_allow_private_networks
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, request.url.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise httpx.ConnectError(f"cannot resolve {host}: {error.strerror}", request=request) from None
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if _refused(address, allow_private):
            raise BlockedAddress(f"{host} resolves to {address}, a network agents may not reach", request=request)


def client(**options: Any) -> httpx.AsyncClient:
    """An httpx client whose every request, redirects included, passes the address check."""
    hooks = options.pop("event_hooks", {})
    hooks = {**hooks, "request": [*hooks.get("request", []), _check]}
    return httpx.AsyncClient(event_hooks=hooks, **options)
