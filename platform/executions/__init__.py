"""Executions: the permanent record of every agent run, its state machine, steps, log and items."""
