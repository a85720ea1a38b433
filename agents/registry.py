"""The one registry of agents, and the version of each: a label plus the SHA-256 of its module's source."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from functools import cache
from types import ModuleType

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


# the platform every agent runs on; its code is versioned with the product, not with each agent
FRAMEWORK = {f"agentledger.agents.{m}" for m in ("sdk", "registry", "context", "emitting", "runner", "launch",
                                                  "tasks", "scheduling", "net")}


def _helpers(module: ModuleType, found: dict[str, ModuleType]) -> None:
    """``module`` and the agent modules it uses (through imported names or modules), transitively."""
    found[module.__name__] = module
    for value in vars(module).values():
        used = value if isinstance(value, ModuleType) else inspect.getmodule(value)
        if (used is not None and used.__name__.startswith("agentledger.agents.") and used.__name__ not in FRAMEWORK
                and used.__name__ not in found and not used.__name__.endswith("__init__")):
            _helpers(used, found)


@cache
def source_version(name: str) -> SourceVersion:
    """The code of the agent as this process runs it: its module and the helper modules it uses (a change
    to a shared crawler changes the version of every agent that crawls)."""
    agent = get_agent(name)
    modules: dict[str, ModuleType] = {}
    _helpers(inspect.getmodule(type(agent)), modules)
    main = type(agent).__module__
    ordered = [main, *sorted(m for m in modules if m != main)]
    source = "\n\n".join(f"# ===== {m} =====\n{inspect.getsource(modules[m])}" if len(ordered) > 1
                          else inspect.getsource(modules[m]) for m in ordered)
    return SourceVersion(agent.version, hashlib.sha256(source.encode()).hexdigest(), source)
