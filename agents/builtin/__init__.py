"""The agents that ship with agentledger."""
