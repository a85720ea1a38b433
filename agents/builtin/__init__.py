"""The agents that ship with agentledger, one module each, registered on import.
Owns: each agent's inputs, scope, prices and steps (written against ``agents.sdk``).
May import: agents, platform, platform.results.
"""
