"""Outbound HTTP to addresses people type in (agents' URLs, connectors' sites), guarded against
server-side request forgery.

Agents fetch URLs that workspace members type in, from inside the deployment's network. Every request
(redirects included) resolves its host first and is refused unless every address is globally routable
(after unwrapping IPv4-mapped, 6to4, Teredo and NAT64 forms). AGENT_ALLOW_PRIVATE_NETWORKS also admits
loopback and private ranges (the demo and the tests fetch from 127.0.0.1); link-local addresses (cloud
metadata lives there) stay refused even then.

What is checked is what is reached: the connection goes to an address that passed the check, from the
one resolution (``_GuardedBackend``), so a DNS server that answers differently the second time
(rebinding) gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
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


async def _checked_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, each one checked: BlockedAddress if any is refused."""
    allow_private = get_settings().agent_allow_private_networks
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise httpcore.ConnectError(f"cannot resolve {host}: {error.strerror}") from None
    except UnicodeError:
        raise httpcore.ConnectError(f"'{host}' is not a valid host name") from None
    addresses = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if _refused(address, allow_private):
            raise BlockedAddress(f"{host} resolves to {address}, a network agents may not reach")
        addresses.append(str(address))
    return list(dict.fromkeys(addresses))


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network layer with the check in it: resolve once, check, connect to a checked address
    (the first that answers). TLS still verifies the certificate against the URL's host name."""

    def __init__(self) -> None:
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        failure: Exception | None = None
        for address in await _checked_addresses(host, port):
            try:
                return await self._network.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure or httpcore.ConnectError(f"{host} has no address")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


def client(**options: Any) -> httpx.AsyncClient:
    """An httpx client whose every connection, redirects included, goes only to checked addresses."""
    transport = httpx.AsyncHTTPTransport()
    # httpx takes no network backend yet (encode/httpx#3749): its pool is given ours before first use.
    # tests/test_executions.py fails if this ever stops taking effect.
    transport._pool._network_backend = _GuardedBackend()
    return httpx.AsyncClient(transport=transport, trust_env=False, **options)


async def check_reachable(url: str) -> None:
    """Refuse (BlockedAddress) a URL whose host resolves into a network we may not reach, up front."""
    parsed = httpx.URL(url)
    try:
        await _checked_addresses(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except httpcore.ConnectError as error:
        raise httpx.ConnectError(str(error)) from None
