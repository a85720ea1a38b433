"""Every Dramatiq actor, imported in one place: ``agentledger worker`` loads this module."""

from agentledger.agents import tasks as agent_tasks  # noqa: F401
from agentledger.notifications import tasks as notification_tasks  # noqa: F401
from agentledger.platform import tasks as platform_tasks  # noqa: F401
from agentledger.platform.broker import broker  # noqa: F401
from agentledger.platform.logs import quiet_libraries
from agentledger.platform.retention import tasks as retention_tasks  # noqa: F401

quiet_libraries()
