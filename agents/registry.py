"""The one registry of agents, and the version of each: a label plus the SHA-256 of its module's source."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from functools import cache

from agentledger.agents.sdk import Agent
from agentledger.platform.errors import NotFound

_agents: dict[str, Agent] = {}


def register(cls: type[Agent]) -> type[Agent]:
    if cls.name in _agents:
        raise ValueError(f"two agents are named {cls.name!r}")
    _agents[cls.name] = cls()
    return cls


@cache
def _load_builtin() -> None:
    """Import every module of ``agents/builtin`` once: each registers its agent."""
    from agentledger.agents import builtin

    for module in pkgutil.iter_modules(builtin.__path__):
        importlib.import_module(f"{builtin.__name__}.{module.name}")


def all_agents() -> list[Agent]:
    _load_builtin()
    return sorted(_agents.values(), key=lambda a: a.name)


def get_agent(name: str) -> Agent:
    _load_builtin()
    agent = _agents.get(name)
    if agent is None:
        raise NotFound(f"no agent named '{name}'; GET /agents lists them", field="agent")
    return agent


@dataclass(frozen=True, slots=True)
class SourceVersion:
    label: str
    sha256: str
    source: str


@cache
def source_version(name: str) -> SourceVersion:
    """The code of the agent as this process runs it (its whole module, so helpers count too)."""
    agent = get_agent(name)
    source = inspect.getsource(inspect.getmodule(type(agent)))
    return SourceVersion(agent.version, hashlib.sha256(source.encode()).hexdigest(), source)
